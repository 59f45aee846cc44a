@testable import FerryClient
import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Hundreds of connections at once: idle ones hold up nobody.
@Suite struct ConcurrencyTests {
    @Test func fiveHundredIdleConnectionsDoNotHoldUpATransfer() throws {
        let server = try TestServer()
        // 250 logged-in sessions and 250 connections that never say a word, the silent ones from five
        // loopback addresses (each address may hold only so many connections that have not logged in).
        var sessions: [ClientSession] = []
        var silent: [Socket] = []
        for index in 0..<250 {
            sessions.append(try server.login())
            silent.append(try Socket.connect(host: "127.0.0.1", port: server.port, timeout: .seconds(5), source: "127.0.0.\(2 + index % 5)"))
        }
        try waitUntil { server.server.connectionCount == 500 }

        let local = try LocalDirectory()
        let content = try randomBytes(16 << 20)
        try content.write(to: local.file("payload.bin"))
        let active = try server.login()
        let started = Date()
        _ = try active.upload(local.file("payload.bin").path, to: "payload.bin")
        _ = try active.download("payload.bin", to: LocalDestination(directory: local.path, name: "back.bin"))
        let elapsed = Date().timeIntervalSince(started)
        #expect(try Data(contentsOf: local.file("back.bin")) == content)
        // Generous: this is a liveness check (no starvation), not a benchmark.
        #expect(elapsed < 20, "a transfer beside 500 idle connections took \(elapsed) s")

        // Every idle session is still alive and answers.
        for session in sessions.shuffled().prefix(25) {
            #expect(try session.list("").entries.map(\.name).contains("payload.bin"))
        }
        #expect(server.server.connectionCount == 501)
        sessions.forEach { $0.close() }
        silent.forEach { $0.close() }
        active.close()
        try waitUntil { server.server.connectionCount == 0 }
    }

    @Test func connectionsOverTheLimitAreRefusedWithBusy() throws {
        let server = try TestServer { $0.maxConnections = 3 }
        let held = try (0..<3).map { _ in try server.login() }
        let error = try #require(throws: ClientError.self) {
            try ClientSession.connect(host: "127.0.0.1", port: server.port)
        }
        #expect(error.code == .busy)
        held.forEach { $0.close() }
        try waitUntil { server.server.connectionCount == 0 }
        #expect(try server.login().list("").entries.isEmpty, "room again once the others left")
    }

    @Test func aClientSilentBeforeLoginIsClosedByTheLoginTimeout() throws {
        let server = try TestServer { $0.loginTimeout = .milliseconds(300) }
        let socket = try Socket.connect(host: "127.0.0.1", port: server.port, timeout: .seconds(5))
        let channel = MessageChannel(stream: socket)
        guard case .hello = try channel.receive(timeout: .seconds(5)) else { Issue.record("no hello"); return }
        guard case .error(let reply) = try channel.receive(timeout: .seconds(5)) else { Issue.record("no error"); return }
        #expect(reply.code == .timeout)
        #expect(throws: ChannelClosed.self) { try channel.receive(timeout: .seconds(5)) }
    }

    @Test func shutdownLetsATransferInFlightFinish() throws {
        let server = try TestServer { $0.shutdownGrace = .seconds(10) }
        let content = try randomBytes(8 << 20)
        try content.write(to: server.url("f.bin"))
        let session = try server.login()
        let raw = RawClient(session)
        try raw.send(.get(PathRequest(path: "f.bin")))
        guard case .file(let header) = try raw.receive() else { Issue.record("no header"); return }
        // The body is in flight (the socket buffers fill and the server blocks); now stop the server.
        let stopped = DispatchSemaphore(value: 0)
        let ferryd = server.server
        Thread { ferryd.shutdown(); stopped.signal() }.start()
        Thread.sleep(forTimeInterval: 0.2)
        var received: UInt64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while received < header.size {
            let count = try session.channel.readBody(into: buffer, remaining: header.size - received, timeout: .seconds(10))
            if count == 0 { break }
            received += UInt64(count)
        }
        #expect(received == UInt64(content.count))
        #expect(stopped.wait(timeout: .now() + 10) == .success)
    }
}
