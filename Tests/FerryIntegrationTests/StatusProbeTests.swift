import FerryClient
import FerryPosix
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// The UDP status probe (docs/PROTOCOL.md section 11) against live servers on 127.0.0.1.
@Suite struct StatusProbeTests {
    /// A TestServer that answers probes. Its UDP port is the number the kernel gave its TCP listener,
    /// which some other socket may hold; then the server serves without probes, and a fresh one is tried.
    static func probedServer(tls: Bool = false, configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> TestServer {
        for _ in 0..<5 {
            let server = try TestServer(tls: tls, configure: configure)
            if server.server.statusAddress != nil { return server }
        }
        throw HardUnexpected("five servers in a row found their UDP port taken")
    }

    static func probe(_ server: TestServer, timeout: Duration = .seconds(2)) throws -> StatusProbeClient.Reply? {
        try StatusProbeClient(host: "127.0.0.1", port: server.port).probe(timeout: timeout)
    }

    /// A socket of its own, sending to `server`'s probe port.
    static func rawSocket(to server: TestServer) throws -> (DatagramSocket, SocketAddress) {
        let address = try #require(server.server.statusAddress)
        return (try DatagramSocket.forPeer(address), address)
    }

    /// Every datagram that arrives on `socket` until `quiet` passes without one.
    static func replies(on socket: DatagramSocket, quiet: Duration = .milliseconds(300)) throws -> [[UInt8]] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received: [[UInt8]] = []
        while let datagram = try buffer.withUnsafeMutableBytes({ raw in try socket.receive(into: raw, timeout: quiet) }) {
            received.append(Array(buffer[0..<datagram.count]))
        }
        return received
    }

    @Test func aProbeReportsVersionProtocolAndTheSessionsAndTransfersOpenNow() throws {
        let server = try Self.probedServer()
        #expect(server.server.statusAddress?.port == server.port, "UDP on the TCP port's number")
        #expect(server.server.statusAddress?.host == "127.0.0.1")
        let idle = try #require(try Self.probe(server))
        #expect(idle.status == StatusReport(server: "ferryd/\(FerryVersion.current)", protocols: [1], uptime: idle.status.uptime,
                                            sessions: 0, transfers: 0, accepting: true, malformed: 0))
        #expect(idle.status.uptime < 60)
        #expect(idle.roundTrip > .zero && idle.roundTrip < .seconds(2))

        let session = try server.login()
        #expect(try Self.probe(server)?.status.sessions == 1, "a logged-in client counts")
        let pending = try HardConnection(port: server.port)
        #expect(try Self.probe(server)?.status.sessions == 1, "a connection that has not logged in does not")

        let uploader = try HardConnection.loggedIn(server)
        let body = Array("in flight".utf8)
        try uploader.send(.put(PutRequest(path: "flight.txt", size: UInt64(body.count), md5: md5Hex(body))))
        #expect(try uploader.receive() == .ready)
        let busy = try #require(try Self.probe(server)).status
        #expect(busy.sessions == 2)
        #expect(busy.transfers == 1, "a put waiting for its body is in flight")
        try uploader.sendBytes(body)
        guard case .stored = try uploader.receive() else { throw HardUnexpected("the put was not stored") }
        #expect(eventually { (try? Self.probe(server))?.status.transfers == 0 })

        session.close()
        withExtendedLifetime(pending) {}
        #expect(eventually { (try? Self.probe(server))?.status.sessions == 1 }, "a session that ended no longer counts")
    }

    @Test func onIPv6TheProbeIsAnsweredOnTheListenersAddress() throws {
        let server = try Self.probedServer { $0.host = "::1" }
        #expect(server.server.statusAddress?.description == "[::1]:\(server.port)")
        let client = try StatusProbeClient(host: "::1", port: server.port)
        #expect(try client.probe(timeout: .seconds(2))?.status.sessions == 0)
        #expect(try StatusProbeClient(host: "127.0.0.1", port: server.port).probe(timeout: .milliseconds(300)) == nil,
                "bound to the listener's address only")
    }

    @Test func overTLSTheProbeReportsProtocol2() throws {
        let server = try Self.probedServer(tls: true)
        #expect(try Self.probe(server)?.status.protocols == [2])
    }

    @Test func aServerAtItsConnectionLimitSaysItIsNotAccepting() throws {
        let server = try Self.probedServer { $0.maxConnections = 1 }
        #expect(try Self.probe(server)?.status.accepting == true)
        let session = try server.login()
        let full = try #require(try Self.probe(server)).status
        #expect(!full.accepting)
        #expect(full.sessions == 1)
        session.close()
        #expect(eventually { (try? Self.probe(server))?.status.accepting == true })
    }

    @Test func shortAndMalformedDatagramsGetNoReplyAndAreCounted() throws {
        let server = try Self.probedServer()
        let (socket, address) = try Self.rawSocket(to: server)
        let good = StatusProbe.request(nonce: 7)
        var badMagic = good
        badMagic[0] = 0
        var padded = good
        padded[600] = 0xFF
        let malformed: [[UInt8]] = [
            Array(good.prefix(100)),                   // short: a reply would outweigh it
            Array(good.prefix(1199)),                  // one byte short
            badMagic,
            padded,
            StatusProbe.reply(nonce: 7, status: StatusProbeTests.sample) + [UInt8](repeating: 0, count: 1200),
            good + [UInt8](repeating: 0, count: 3000),  // longer than any request
            [],
        ]
        for datagram in malformed { try socket.send(datagram, to: address) }
        #expect(try Self.replies(on: socket).isEmpty, "nothing answers a malformed datagram")
        #expect(eventually { server.server.status.malformedCount == UInt64(malformed.count) })

        try socket.send(good, to: address)
        let answers = try Self.replies(on: socket)
        #expect(answers.count == 1)
        let (nonce, status) = try StatusProbe.parseReply(try #require(answers.first))
        #expect(nonce == 7)
        #expect(status.malformed == UInt64(malformed.count))
        #expect(try #require(answers.first).count < good.count, "a reply is smaller than its request")
    }

    static let sample = StatusReport(server: "x", protocols: [1], uptime: 0, sessions: 0, transfers: 0, accepting: true, malformed: 0)

    @Test func aFloodFromOneSourceIsRateLimited() throws {
        let server = try Self.probedServer()
        let (socket, address) = try Self.rawSocket(to: server)
        let sent = 100
        for nonce in 0..<sent { try socket.send(StatusProbe.request(nonce: UInt64(nonce)), to: address) }
        let answers = try Self.replies(on: socket)
        #expect(!answers.isEmpty)
        // A burst of 10 and 5 a second after it: the whole flood takes well under a second.
        #expect(answers.count <= 15, "\(answers.count) replies to \(sent) probes")
        #expect(server.server.status.malformedCount == 0, "rate-limited is not malformed")
        #expect(server.servesAClient(), "TCP service goes on")
    }

    @Test func withUDPStatusOffNothingAnswers() throws {
        let server = try TestServer { $0.udpStatus = false }
        #expect(server.server.statusAddress == nil)
        #expect(try Self.probe(server, timeout: .milliseconds(500)) == nil)
    }

    @Test func ferryPingAgainstALiveDaemonPrintsEachReplyAndASummary() throws {
        let daemon = try FerrydProcess()
        #expect(eventually { daemon.log.contains("answering status probes on udp 127.0.0.1:\(daemon.port)") })
        let ping = try CommandLineTests.run("ferry", ["--port", "\(daemon.port)", "ping", "-c", "2", "-i", "0.2"])
        #expect(ping.status == 0, "stderr: \(ping.stderr)")
        let lines = ping.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(ping.stdout)")
        for sequence in 1...2 {
            let line = lines.first { $0.hasPrefix("reply from 127.0.0.1:\(daemon.port): seq=\(sequence) time=") }
            #expect(line?.contains(" ms ferryd \(FerryVersion.current) protocol 2 up ") == true, "\(ping.stdout)")
            #expect(line?.hasSuffix(" sessions 0 transfers 0 accepting") == true, "\(ping.stdout)")
        }
        #expect(lines.last?.hasPrefix("2 sent, 2 received, 0% loss, round trip min/avg/max ") == true, "\(ping.stdout)")

        // The same server the other commands reach: FERRY_HOST/FERRY_PORT, or --host USER@HOST:PORT.
        let fromEnvironment = try CommandLineTests.run("ferry", ["ping", "-c", "1"],
                                                       environment: ["FERRY_HOST": "127.0.0.1", "FERRY_PORT": "\(daemon.port)"])
        #expect(fromEnvironment.status == 0 && fromEnvironment.stdout.hasPrefix("reply from 127.0.0.1:\(daemon.port): seq=1"),
                "stderr: \(fromEnvironment.stderr)")
        let fromHost = try CommandLineTests.run("ferry", ["ping", "-c", "1", "--host", "alice@127.0.0.1:\(daemon.port)"])
        #expect(fromHost.status == 0 && fromHost.stdout.hasPrefix("reply from 127.0.0.1:\(daemon.port): seq=1"), "stderr: \(fromHost.stderr)")
    }

    @Test func ferryPingAgainstAClosedPortSaysSoWithinTheTimeoutAndExitsOne() throws {
        let port = try DatagramSocket(binding: try #require(try SocketAddress.resolve(host: "127.0.0.1", port: 0).first)).localAddress.port
        let started = ContinuousClock.now
        let ping = try CommandLineTests.run("ferry", ["ping", "--port", "\(port)", "-c", "1", "--timeout", "1"])
        let elapsed = ContinuousClock.now - started
        #expect(ping.status == 1)
        #expect(ping.stdout.contains("no reply from 127.0.0.1:\(port) within 1 s (seq=1)\n"), "\(ping.stdout)")
        #expect(ping.stdout.contains("1 sent, 0 received, 100% loss\n"), "\(ping.stdout)")
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(3), "took \(elapsed)")
    }
}

extension TestServer {
    /// Whether a new client can log in and list the root.
    func servesAClient() -> Bool {
        guard let session = try? login() else { return false }
        defer { session.close() }
        return (try? session.list("")) != nil
    }
}
