// libFuzzer entry for ferryd end to end: frames in, frames out.
//
// Built by fuzz/run.sh against the real modules (FerryWire, FerryCrypto, FerryPosix, FerryTransport,
// FerryServer, swift-log's Logging), all with -sanitize=fuzzer,address. One Server runs in this process
// on 127.0.0.1, port 0, over a small share made at start-up (files, a directory, symlinks inside and
// out, a file 300 levels down) with one read-write user who has a quota.
//
// What one input does:
//  1. Byte 0 picks whether the connection logs in first (bit 0), whether the rest is sent in one
//     write or trickled in pieces (bit 1), and whether it goes to the TLS server (bit 2: protocol 2,
//     a TLS handshake first, SCRAM-SHA-256-PLUS) or the clear-text one (protocol 1). The harness
//     connects, reads `hello`, and, if asked, logs in (keys derived once, so a login costs a few HMACs).
//  2. The rest of the input goes to the server as a raw byte stream, then the harness half-closes the
//     connection, so the server meets the end of the stream wherever the input ends.
//  3. Everything the server sends is read until it closes, and checked: every frame is at most 65,536
//     bytes and decodes to a message a server may send; `hello` comes only first; an error message is at
//     most 1000 bytes; a `file` header is followed by exactly its body.
// Findings: a trap or ASan report anywhere in the server (this process), a reply that breaks the rules
// above, or a server that neither answers nor closes within 10 s.

import FerryCrypto
import FerryPosix
import FerryServer
import FerryTLS
import FerryTransport
import FerryWire
import Foundation
import Logging

// MARK: - Fixture, made once

enum Fixture {
    static let user = "fuzz"
    static let password = "fuzz-password"
    static let salt = [UInt8](repeating: 7, count: 16)
    static let iterations = ScramCredentials.minimumIterations
    static let saltedPassword = PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations, length: 32)
    static let clientKey = HMAC.sha256(key: saltedPassword, message: Array("Client Key".utf8))
    static let storedKey = Digest.hash(.sha256, clientKey)
    static let serverKey = HMAC.sha256(key: saltedPassword, message: Array("Server Key".utf8))

    static let base = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-fuzz-\(getpid())")
    /// Protocol 1, clear text.
    static let server = makeServer(tls: false)
    /// Protocol 2, over the same share.
    static let tlsServer = makeServer(tls: true)

    static func makeServer(tls: Bool) -> Server {
        Posix.ignoreSIGPIPE()
        let share = base.appendingPathComponent("share")
        let files = FileManager.default
        if !tls {
            makeShare(share)
        }
        var configuration = ServerConfiguration(root: share.path)
        configuration.port = 0
        configuration.loginTimeout = .seconds(3)
        configuration.idleTimeout = .seconds(3)
        configuration.stallTimeout = .seconds(3)
        configuration.failedLoginDelay = .zero
        configuration.banThreshold = 0
        configuration.chunkSize = 64 * 1024
        if tls {
            _ = server  // the share is made by the clear-text server
            configuration.tls = .on(certificate: base.appendingPathComponent("ferryd.crt").path,
                                    privateKey: base.appendingPathComponent("ferryd.key").path, createIfMissing: true)
        }
        _ = files
        let credentials = ScramCredentials(salt: salt, iterations: iterations, storedKey: storedKey, serverKey: serverKey)
        let users = UserStore([UserRecord(name: user, credentials: credentials, quota: 16 << 20)])
        var logger = Logger(label: "fuzz-server")
        logger.logLevel = .critical
        let server = try! Server(configuration: configuration, users: users, logger: logger)
        server.start()
        return server
    }

    static func makeShare(_ share: URL) {
        let files = FileManager.default
        try! files.createDirectory(at: share.appendingPathComponent("dir/sub"), withIntermediateDirectories: true)
        try! Data("hello\n".utf8).write(to: share.appendingPathComponent("a.txt"))
        try! Data(repeating: 0x5A, count: 300 * 1024).write(to: share.appendingPathComponent("dir/big.bin"))
        try! Data().write(to: share.appendingPathComponent("dir/sub/empty"))
        try! Data("outside\n".utf8).write(to: base.appendingPathComponent("secret.txt"))
        try! files.createSymbolicLink(atPath: share.appendingPathComponent("link").path, withDestinationPath: "a.txt")
        try! files.createSymbolicLink(atPath: share.appendingPathComponent("dirlink").path, withDestinationPath: "dir")
        try! files.createSymbolicLink(atPath: share.appendingPathComponent("out").path, withDestinationPath: "../secret.txt")
        try! files.createSymbolicLink(atPath: share.appendingPathComponent("abs").path, withDestinationPath: "/etc/passwd")
        let deep = (0..<300).map { _ in "d" }.joined(separator: "/")
        try! files.createDirectory(at: share.appendingPathComponent(deep), withIntermediateDirectories: true)
        try! files.createSymbolicLink(atPath: share.appendingPathComponent("deep").path, withDestinationPath: deep)
    }
}

struct Finding: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Entry point

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try exchange(logIn: input[0] & 1 != 0, trickle: input[0] & 2 != 0, tls: input[0] & 4 != 0, stream: Array(input.dropFirst()))
    } catch let finding as Finding {
        fatalError("finding: \(finding)")
    } catch {
        fatalError("harness failure: \(error)")
    }
    return 0
}

func exchange(logIn: Bool, trickle: Bool, tls: Bool, stream bytes: [UInt8]) throws {
    let server = tls ? Fixture.tlsServer : Fixture.server
    let socket = try Socket.connect(host: "127.0.0.1", port: server.localAddress.port, timeout: .seconds(5))
    defer { socket.close() }
    var secured: TLSStream?
    if tls {
        let stream = try TLSStream(context: try TLSContext.client(.pinning), socket: socket)
        try stream.handshake(deadline: .now + .seconds(10))
        guard stream.peerFingerprint == server.fingerprint else { throw Finding("the TLS server presented another key") }
        secured = stream
    }
    let stream: any ByteStream = secured ?? socket
    let channel = MessageChannel(stream: stream)
    guard case .hello(let hello) = try receive(channel) else { throw Finding("the first frame is not hello") }
    guard hello.auth == [Hello.mechanism(overTLS: tls)], hello.protocolVersion == Hello.version(overTLS: tls) else { throw Finding("hello offers \(hello.auth), protocol \(hello.protocolVersion)") }
    if logIn { try login(channel, binding: try secured?.channelBinding()) }

    // Writes may fail once the server has closed (a violation ends the session): keep reading anyway.
    if trickle {
        var offset = 0
        var piece = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            if (try? bytes[offset..<end].withUnsafeBytes { try stream.write($0, timeout: .seconds(5)) }) == nil { break }
            offset = end
            piece = piece * 3 + 1
        }
    } else {
        _ = try? bytes.withUnsafeBytes { try stream.write($0, timeout: .seconds(5)) }
    }
    // The end of the input: the server reads the end of the stream there (over TLS, one without
    // close_notify, which ferryd takes as an end like any other).
    shutdown(socket.descriptor.rawValue, Int32(SHUT_WR))
    try readUntilClosed(channel)
}

/// The next message from the server, decoded; a framing or format violation by the server is a finding.
func receive(_ channel: MessageChannel) throws -> Message {
    do {
        return try channel.receive(timeout: .seconds(10))
    } catch let error as WireError {
        throw Finding("the server sent a bad frame: \(error)")
    } catch is TimeoutError {
        throw Finding("the server neither answered nor closed within 10 s")
    }
}

func login(_ channel: MessageChannel, binding: [UInt8]?) throws {
    let bare = "n=\(Fixture.user),r=fuzzclientnonce"
    let gs2 = binding == nil ? "n,," : "p=tls-exporter,,"
    let mechanism = Hello.mechanism(overTLS: binding != nil)
    try channel.send(.authStart(AuthStart(mechanism: mechanism, message: gs2 + bare)), timeout: .seconds(5))
    guard case .authChallenge(let challenge) = try receive(channel) else { throw Finding("no auth_challenge for a valid login") }
    let nonce = challenge.message.split(separator: ",").first.map { String($0.dropFirst(2)) } ?? ""
    let withoutProof = "c=\(Data(Array(gs2.utf8) + (binding ?? [])).base64EncodedString()),r=\(nonce)"
    let authMessage = Array("\(bare),\(challenge.message),\(withoutProof)".utf8)
    let signature = HMAC.sha256(key: Fixture.storedKey, message: authMessage)
    let proof = zip(Fixture.clientKey, signature).map { $0 ^ $1 }
    try channel.send(.authFinish(AuthMessage(message: withoutProof + ",p=" + Data(proof).base64EncodedString())), timeout: .seconds(5))
    guard case .authOK = try receive(channel) else { throw Finding("a valid login was not accepted") }
}

/// Reads and checks every reply until the server closes the connection.
func readUntilClosed(_ channel: MessageChannel) throws {
    let body = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    defer { body.deallocate() }
    while true {
        let message: Message
        do {
            message = try receive(channel)
        } catch is ChannelClosed {
            return
        } catch let error as PosixError where error.code == ECONNRESET {
            return
        }
        switch message {
        case .error(let reply):
            if reply.message.utf8.count > ErrorReply.maximumMessageLength {
                throw Finding("an error message of \(reply.message.utf8.count) bytes")
            }
        case .file(let header):
            var left = header.size
            while left > 0 {
                let count = try channel.readBody(into: body, remaining: left, timeout: .seconds(10))
                if count == 0 { throw Finding("the server closed inside a body, \(left) of \(header.size) bytes missing") }
                left -= UInt64(count)
            }
        case .authChallenge, .authOK, .listing, .entry, .preparing, .ready, .stored:
            continue
        case .hello, .authStart, .authFinish, .list, .stat, .get, .put, .bye:
            throw Finding("the server sent a \(message.type) message")
        }
    }
}
