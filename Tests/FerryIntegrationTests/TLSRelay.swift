import FerryPosix
import FerryTLS
import FerryTransport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A man in the middle for tests: listens on 127.0.0.1 with a TLS key of its own, and for each client
/// opens its own TLS connection to the real server (accepting any key) and copies bytes both ways.
/// It sees everything in clear and can relay every SCRAM message; what it cannot do is make the two
/// TLS channels export the same bytes. Stops at deinit.
final class TLSRelay: @unchecked Sendable {
    let listener: ListeningSocket
    let identity: SelfSignedCertificate
    private let context: TLSContext
    private let upstreamPort: Int
    private let directory: LocalDirectory
    private let stopped = Locked(false)

    init(to upstreamPort: Int) throws {
        Posix.ignoreSIGPIPE()
        directory = try LocalDirectory()
        identity = try SelfSignedCertificate.generate(commonName: "not-ferryd")
        try Data(identity.certificatePEM).write(to: directory.file("relay.crt"))
        try Data(identity.privateKeyPEM).write(to: directory.file("relay.key"))
        context = try TLSContext.server(certificate: directory.file("relay.crt").path, privateKey: directory.file("relay.key").path)
        self.upstreamPort = upstreamPort
        listener = try ListeningSocket(host: "127.0.0.1", port: 0)
        // The thread holds the relay only for one turn at a time, so that dropping it stops it.
        let thread = Thread { [weak self] in
            while let relay = self, relay.acceptOnce() {}
        }
        thread.start()
    }

    var port: Int { listener.localAddress.port }

    deinit {
        stopped.withLock { $0 = true }
        listener.close()
    }

    /// Waits up to 100 ms for a client and starts relaying it; false once the relay is stopped.
    private func acceptOnce() -> Bool {
        guard !stopped.withLock({ $0 }) else { return false }
        guard listener.descriptor.isOpen,
              ((try? Posix.poll(listener.descriptor.rawValue, events: Int16(POLLIN), timeoutMilliseconds: 100)) ?? 0) > 0,
              let accepted = (try? listener.accept()) ?? nil else { return true }
        let client = accepted
        Thread { [self] in relay(client) }.start()
        return true
    }

    private func relay(_ clientSocket: Socket) {
        guard let client = try? TLSStream(context: context, socket: clientSocket),
              (try? client.handshake(deadline: .now + .seconds(5))) != nil,
              let upstreamSocket = try? Socket.connect(host: "127.0.0.1", port: upstreamPort, timeout: .seconds(5)),
              let upstream = try? TLSStream(context: try TLSContext.client(.pinning), socket: upstreamSocket),
              (try? upstream.handshake(deadline: .now + .seconds(5))) != nil
        else { clientSocket.close(); return }
        Self.shuttle(client, upstream)
    }

    /// Copies both ways on this one thread (an SSL object is not to be used by two threads at once),
    /// turn by turn with short waits, until either side ends; then ends both.
    private static func shuttle(_ a: TLSStream, _ b: TLSStream) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var idleSince = ContinuousClock.now
        turns: while ContinuousClock.now - idleSince < .seconds(30) {
            for (source, sink) in [(a, b), (b, a)] {
                do {
                    let count = try source.read(into: buffer, timeout: .milliseconds(10))
                    if count == 0 { break turns }
                    try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]), timeout: .seconds(10))
                    idleSince = .now
                } catch is TimeoutError {
                    continue
                } catch {
                    break turns
                }
            }
        }
        a.close()
        b.close()
    }
}

/// A value handed to one other thread, which alone uses it.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
