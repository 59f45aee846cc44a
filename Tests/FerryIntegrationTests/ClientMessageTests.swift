#if canImport(Glibc)
import Glibc
#endif
@testable import FerryClient
import FerryPosix
import FerryTLS
import FerryTransport
import FerryWire
import Foundation
import Testing

/// What the client says when the server cannot be reached in time, or goes away mid-transfer.
@Suite struct ClientMessageTests {
    @Test(arguments: [false, true])
    func aListenerThatNeverAcceptsIsCouldNotConnectWithinTheTimeout(tls: Bool) throws {
        let listener = try ListeningSocket(host: "127.0.0.1", port: 0)  // never accepts
        defer { listener.close() }
        let port = listener.localAddress.port
        let anyKey = try #require(KeyFingerprint(parsing: "SHA256:" + String(repeating: "A", count: 43)))
        let started = ContinuousClock.now
        let error = try #require(throws: ClientError.self) {
            try ClientSession.connect(host: "127.0.0.1", port: port, timeout: .milliseconds(1500),
                                      security: tls ? .tls(.fingerprint(anyKey)) : .clearText)
        }
        #expect(error.message.hasPrefix("could not connect to 127.0.0.1:\(port) within 1.5 s: the server took the connection but never "), "\(error.message)")
        #expect(!error.message.contains("timed out waiting"))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func theCommandLineSaysTheSame() throws {
        let listener = try ListeningSocket(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let run = try CommandLineTests.run("ferry", ["--port", "\(listener.localAddress.port)", "--no-tls", "--timeout", "1", "ls"],
                                           environment: ["FERRY_PASSWORD": "x"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("ferry: could not connect to 127.0.0.1:\(listener.localAddress.port) within 1 s"), "\(run.stderr)")
        #expect(run.stderr.filter { $0 == "\n" }.count == 1)
    }

    @Test(arguments: [true, false])
    func aServerKilledMidGetClosedTheConnectionItIsNoProtocolError(tls: Bool) throws {
        let daemon = try FerrydProcess(sections: tls ? "" : "[tls]\nenabled = false\n")
        try makeSparseFile(daemon.share.appendingPathComponent("big.bin"), size: 256 << 20)
        let session = try ClientSession.connect(
            host: "127.0.0.1", port: daemon.port, timeout: .seconds(30),
            security: daemon.fingerprint.map { .tls(.fingerprint($0)) } ?? .clearText
        )
        try session.login(user: "carol", password: "pw")
        let local = try LocalDirectory()
        let pid = daemon.process.processIdentifier
        let killer = OnUpdate { done in
            if done >= 4 << 20 { kill(pid, SIGKILL) }
        }
        let error = try #require(throws: ClientError.self) {
            try session.download("big.bin", to: LocalDestination(directory: local.path, name: "big.bin"), progress: killer)
        }
        #expect(error.message.hasPrefix("the server closed the connection"), "\(error.message)")
        #expect(!error.message.contains("protocol error"))
    }

    @Test func aServerShuttingDownMidGetClosedTheConnection() throws {
        // A server without chunk-verified transfers: the plain get, one body. The file is far larger
        // than what loopback buffers hold (tens of MiB here), and sent at 64 MiB/s (four seconds in
        // all), so that the shutdown, asked for after 4 MiB, comes while the body is still on its way
        // (unthrottled, sendfile could finish it in half a second, before the shutdown began).
        let server = try TestServer { $0.offersChunks = false; $0.shutdownGrace = .zero; $0.maxRate = 64 << 20 }
        try makeSparseFile(server.url("big.bin"), size: 256 << 20)
        let session = try server.login()
        let local = try LocalDirectory()
        let stopping = OnUpdate { done in
            if done >= 4 << 20 {
                let ferryd = server.server  // Sendable
                DispatchQueue.global().async { ferryd.shutdown() }
            }
        }
        let error = try #require(throws: ClientError.self) {
            try session.download("big.bin", to: LocalDestination(directory: local.path, name: "big.bin"), progress: stopping)
        }
        #expect(error.message.hasPrefix("the server closed the connection"), "\(error.message)")
    }

    @Test func translationsTellAGoneServerFromAProtocolViolation() {
        let gone: [any Error] = [
            ChannelClosed(), WireError.truncated(expected: 10, received: 4), WireError.closedInsideFrame,
            PosixError(code: ECONNRESET, function: "read"), PosixError(code: EPIPE, function: "write"),
            TLSError("TLS read", "unexpected eof while reading"),
        ]
        for error in gone {
            #expect(ClientError(translating: error).message.hasPrefix("the server closed the connection"), "\(error)")
        }
        #expect(ClientError(translating: WireError.malformedMessage("no type")).message.hasPrefix("protocol error: "))
        #expect(ClientError(translating: PosixError(code: EHOSTUNREACH, function: "read")).message.hasPrefix("connection failed: "))
    }
}

/// A file of `size` zero bytes that takes no room: larger than any socket buffers, at no cost.
func makeSparseFile(_ url: URL, size: UInt64) throws {
    #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
    let handle = try FileHandle(forWritingTo: url)
    try handle.truncate(atOffset: size)
    try handle.close()
}
