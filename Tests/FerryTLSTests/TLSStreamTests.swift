#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryTLS
import FerryTransport
import Foundation
import Testing

/// A self-signed identity in a scratch directory.
final class ScratchIdentity {
    let directory: URL
    let generated: SelfSignedCertificate
    var certificate: String { directory.appendingPathComponent("ferryd.crt").path }
    var key: String { directory.appendingPathComponent("ferryd.key").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        generated = try SelfSignedCertificate.generate()
        try Data(generated.certificatePEM).write(to: URL(fileURLWithPath: certificate))
        try Data(generated.privateKeyPEM).write(to: URL(fileURLWithPath: key))
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

/// Two connected non-blocking sockets.
func socketPair() throws -> (Socket, Socket) {
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw PosixError(code: errno, function: "socketpair") }
    try Posix.fcntlSetNonBlocking(fds[0])
    try Posix.fcntlSetNonBlocking(fds[1])
    return (Socket(adopting: Descriptor(fds[0]), peer: nil), Socket(adopting: Descriptor(fds[1]), peer: nil))
}

/// Runs both handshakes at once (each on its own thread) and returns the two streams.
func connectedPair(_ identity: ScratchIdentity) throws -> (server: TLSStream, client: TLSStream) {
    let (a, b) = try socketPair()
    let server = try TLSStream(context: try TLSContext.server(certificate: identity.certificate, privateKey: identity.key), socket: a)
    let client = try TLSStream(context: try TLSContext.client(.pinning), socket: b, serverName: "localhost")
    let deadline = ContinuousClock.now + .seconds(10)
    let serverError = Locked<(any Error)?>(nil)
    let handoff = Handoff(server)
    let thread = Thread { do { try handoff.value.handshake(deadline: deadline) } catch { serverError.set(error) } }
    thread.start()
    try client.handshake(deadline: deadline)
    while thread.isExecuting || !thread.isFinished { Thread.sleep(forTimeInterval: 0.001) }
    if let error = serverError.get() { throw error }
    return (server, client)
}

/// A stream handed to one other thread, which alone uses it until the test takes it back.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
}

@Suite struct TLSStreamTests {
    @Test func bothEndsExportTheSameChannelBindingAndDifferentConnectionsDoNot() throws {
        let identity = try ScratchIdentity()
        let (server, client) = try connectedPair(identity)
        let serverBinding = try server.channelBinding()
        #expect(serverBinding.count == 32)
        #expect(serverBinding == (try client.channelBinding()))
        #expect(client.protocolVersion == "TLSv1.3")
        let (other, _) = try connectedPair(identity)
        #expect(try other.channelBinding() != serverBinding, "another connection, other bytes")
    }

    @Test func theClientSeesTheServersFingerprint() throws {
        let identity = try ScratchIdentity()
        let (server, client) = try connectedPair(identity)
        #expect(client.peerFingerprint == identity.generated.fingerprint)
        #expect(server.peerFingerprint == nil, "no client certificate is asked for")
        #expect(try TLSContext.server(certificate: identity.certificate, privateKey: identity.key).fingerprint == identity.generated.fingerprint)
    }

    @Test func bytesAndFilesCrossBothWays() throws {
        let identity = try ScratchIdentity()
        let (server, client) = try connectedPair(identity)
        let message = Array("hello over TLS".utf8)
        try message.withUnsafeBytes { try client.write($0, timeout: .seconds(5)) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let count = try server.read(into: buffer, timeout: .seconds(5))
        #expect(Array(buffer[..<count]) == message)

        // A file larger than the stream's buffer, sent while the other thread reads it.
        let content = (0..<(600 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = identity.directory.appendingPathComponent("file.bin").path
        try Data(content).write(to: URL(fileURLWithPath: path))
        let file = Descriptor(try Posix.openat(AT_FDCWD, path, flags: O_RDONLY))
        let received = Locked<[UInt8]>([])
        let clientHandoff = Handoff(client)
        let reader = Thread {
            let client = clientHandoff.value
            let inbound = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { inbound.deallocate() }
            var all: [UInt8] = []
            while all.count < content.count, let n = try? client.read(into: inbound, timeout: .seconds(5)), n > 0 {
                all += inbound[..<n]
            }
            received.set(all)
        }
        reader.start()
        var offset: Int64 = 0
        while offset < Int64(content.count) {
            let sent = try server.sendFile(file, offset: &offset, count: content.count - Int(offset), timeout: .seconds(5))
            #expect(sent > 0)
            if sent == 0 { break }
        }
        #expect(eventually { received.get().count == content.count })
        #expect(received.get() == content)

        server.close()
        #expect(try client.read(into: buffer, timeout: .seconds(5)) == 0, "close_notify reads as the end")
    }

    @Test func aMismatchedKeyOrAnUnreadableFileIsNamedWithItsReason() throws {
        let one = try ScratchIdentity()
        let two = try ScratchIdentity()
        #expect(throws: TLSError.self) { try TLSContext.server(certificate: one.certificate, privateKey: two.key) }
        do {
            _ = try TLSContext.server(certificate: one.certificate, privateKey: two.key)
        } catch {
            #expect(error.description.contains(two.key) && error.description.contains("does not match"), "\(error)")
        }
        do {
            _ = try TLSContext.server(certificate: one.directory.path + "/missing.crt", privateKey: one.key)
            Issue.record("a missing certificate was accepted")
        } catch {
            #expect(error.description.contains("missing.crt") && error.description.contains("No such file"), "\(error)")
        }
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: one.key))
        do {
            _ = try TLSContext.server(certificate: one.certificate, privateKey: one.key)
            Issue.record("a malformed key was accepted")
        } catch {
            #expect(error.operation == "private key \(one.key)", "\(error)")
        }
    }

    @Test func aSilentPeerTimesTheHandshakeOut() throws {
        let identity = try ScratchIdentity()
        let (a, silent) = try socketPair()
        defer { silent.close() }
        let server = try TLSStream(context: try TLSContext.server(certificate: identity.certificate, privateKey: identity.key), socket: a)
        let started = ContinuousClock.now
        #expect(throws: TimeoutError.self) { try server.handshake(deadline: .now + .milliseconds(300)) }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func fingerprintsParseInTheirOneForm() {
        let fingerprint = KeyFingerprint(subjectPublicKeyInfo: [1, 2, 3])
        #expect(fingerprint.text.hasPrefix("SHA256:") && fingerprint.text.count == 7 + 43)
        #expect(KeyFingerprint(parsing: fingerprint.text) == fingerprint)
        #expect(KeyFingerprint(parsing: fingerprint.text + "=") == fingerprint)
        #expect(KeyFingerprint(parsing: "MD5:" + fingerprint.text.dropFirst(7)) == nil)
        #expect(KeyFingerprint(parsing: String(fingerprint.text.dropLast())) == nil)
    }
}

func eventually(within timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return true
}
