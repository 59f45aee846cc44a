#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryTransport
import FerryWire
import Foundation
import Testing

/// The PROXY protocol v2 header against the ferryd binary, with hand-made headers on loopback: who may
/// send one (`trusted_proxies`), who must, what LOCAL does, and that the client it names is the one
/// bans, connection limits and both logs go by. LoadBalancerTests does the same through HAProxy.
@Suite struct ProxyProtocolTests {
    /// The header a proxy sends for a client at `client`:`port`.
    static func header(client: String, port: Int = 40_000) -> [UInt8] {
        ProxyHeader.proxied(source: ProxyHeader.Endpoint(address: IPAddress(client)!, port: port),
                            destination: ProxyHeader.Endpoint(address: IPAddress("127.0.0.1")!, port: 8912)).encoded()
    }

    /// Connects from `source`, sends `bytes`, and returns the `error` the server answers in clear
    /// (after its hello, in clear text) before it closes.
    static func refusal(port: Int, source: String? = nil, sending bytes: [UInt8], timeout: Duration = .seconds(5)) throws -> ErrorReply {
        let socket = try Socket.connect(host: "127.0.0.1", port: port, timeout: .seconds(5), source: source)
        defer { socket.close() }
        if !bytes.isEmpty { try bytes.withUnsafeBytes { try socket.write($0, timeout: .seconds(5)) } }
        let channel = MessageChannel(stream: socket)
        while true {
            let message = try channel.receive(timeout: timeout)
            if case .hello = message { continue }
            guard case .error(let reply) = message else { throw HardUnexpected("expected an error, got \(message)") }
            #expect(HardConnection.readsEndOfStream(socket, within: .seconds(5)), "closed after the refusal")
            return reply
        }
    }

    /// A TLS connection that sent `header` first, logged in as carol.
    static func carol(_ daemon: FerrydProcess, behind header: [UInt8]) throws -> HardConnection {
        let connection = try HardConnection(port: daemon.port, tls: true, preamble: header)
        let outcome = try connection.login(user: "carol", password: "pw")
        guard case .authOK = outcome else { throw HardUnexpected("carol could not log in: \(outcome)") }
        return connection
    }

    /// The lines of `daemon`'s log that contain every one of `texts`.
    static func lines(_ daemon: FerrydProcess, containing texts: String...) -> [Substring] {
        daemon.log.split(separator: "\n").filter { line in texts.allSatisfy { line.contains($0) } }
    }

    @Test func aTrustedProxysClientIsTheOneItsHeaderNames() throws {
        let daemon = try FerrydProcess(server: "trusted_proxies = 10.0.0.0/8, 127.0.0.1\ntransfer_log = transfers.log\n")
        let v4 = try Self.carol(daemon, behind: Self.header(client: "192.0.2.7", port: 40_001))
        #expect(errorCode(try v4.put("from-v4.txt", Array("four".utf8))) == nil)
        let v6 = try Self.carol(daemon, behind: Self.header(client: "2001:db8::7", port: 40_002))
        #expect(try v6.get("from-v4.txt").body == Array("four".utf8))
        let proxyPort = try #require(v4.socket.localAddress?.port)
        #expect(eventually { !Self.lines(daemon, containing: "login carol", "peer=192.0.2.7:40001", "proxy=127.0.0.1:\(proxyPort)").isEmpty },
                "the session is the client's, via the proxy: \(daemon.log)")
        #expect(eventually { !Self.lines(daemon, containing: "get from-v4.txt", "peer=[2001:db8::7]:40002").isEmpty })
        #expect(!daemon.log.contains("peer=127.0.0.1:\(proxyPort)"))
        func records() -> [Substring] {
            ((try? String(contentsOf: daemon.local.file("transfers.log"), encoding: .utf8)) ?? "").split(separator: "\n")
        }
        #expect(eventually { records().count == 2 })
        let records = records()
        #expect(records.first?.contains(#""address":"192.0.2.7""#) == true, "\(records)")
        #expect(records.last?.contains(#""address":"2001:db8::7""#) == true, "\(records)")

        // LOCAL: the proxy's own connection, served as the proxy.
        let local = try Self.carol(daemon, behind: ProxyHeader.local.encoded())
        let localPort = try #require(local.socket.localAddress?.port)
        #expect(try local.list("").entries.map(\.name) == ["from-v4.txt"])
        #expect(eventually { !Self.lines(daemon, containing: "login carol", "peer=127.0.0.1:\(localPort)").isEmpty })
        #expect(Self.lines(daemon, containing: "peer=127.0.0.1:\(localPort)", "proxy=").isEmpty)

        // A health check (LOCAL, then closed) is no session in the log.
        func sessions() -> Int { daemon.log.split(separator: "\n").filter { $0.hasSuffix(" connected") }.count }
        let sessionsBefore = sessions()
        let check = try Socket.connect(host: "127.0.0.1", port: daemon.port, timeout: .seconds(5))
        try ProxyHeader.local.encoded().withUnsafeBytes { try check.write($0, timeout: .seconds(5)) }
        check.close()
        Thread.sleep(forTimeInterval: 0.3)
        #expect(sessions() == sessionsBefore, "\(daemon.log.suffix(600))")
        #expect(Self.lines(daemon, containing: "disconnected before the TLS handshake").isEmpty)
        #expect(daemon.process.isRunning)
    }

    @Test func inClearTextTheHeaderComesBeforeTheServersHello() throws {
        let daemon = try FerrydProcess(server: "trusted_proxies = ::1, 127.0.0.1\ntransfer_log = transfers.log\n",
                                       sections: "[tls]\nenabled = false\n")
        let connection = try HardConnection(port: daemon.port, preamble: Self.header(client: "198.51.100.23", port: 40_023))
        #expect(connection.hello?.protocolVersion == 1)
        guard case .authOK = try connection.login(user: "carol", password: "pw") else {
            Issue.record("carol could not log in behind a header in clear text")
            return
        }
        #expect(errorCode(try connection.put("clear.txt", Array("clear".utf8))) == nil)
        #expect(eventually { !Self.lines(daemon, containing: "put clear.txt", "peer=198.51.100.23:40023").isEmpty }, "\(daemon.log.suffix(800))")
        #expect(eventually {
            ((try? String(contentsOf: daemon.local.file("transfers.log"), encoding: .utf8)) ?? "").contains(#""address":"198.51.100.23""#)
        })
        // Without one, the server's hello waits for it, and the login timeout ends the wait.
        let bare = try Socket.connect(host: "127.0.0.1", port: daemon.port, timeout: .seconds(5))
        defer { bare.close() }
        #expect(throws: TimeoutError.self) { try MessageChannel(stream: bare).receive(timeout: .milliseconds(300)) }
    }

    @Test func aTrustedPeerMustStartWithAWholeValidHeader() throws {
        let daemon = try FerrydProcess(server: "trusted_proxies = 127.0.0.1\nlogin_timeout = 1.5\n")
        let required = "only behind a PROXY protocol v2 header (127.0.0.1 is in its trusted_proxies)"

        // ferry itself, connecting straight from the proxy's address: told, not left hanging.
        let direct = try CommandLineTests.run("ferry", ["--port", "\(daemon.port)", "--user", "carol", "--fingerprint", daemon.fingerprint!.text, "ls"],
                                              environment: ["FERRY_PASSWORD": "pw"])
        #expect(direct.status == 1)
        #expect(direct.stderr.contains(required), "\(direct.stderr)")
        #expect(direct.stderr.contains("sent no PROXY header: the connection starts with a TLS handshake"), "\(direct.stderr)")

        let unixHeader = ProxyHeader.signature + [0x21, 0x31, 0x00, 0xD8] + [UInt8](repeating: 0, count: 216)
        let udpHeader = ProxyHeader.signature + [0x21, 0x12, 0x00, 0x0C] + [UInt8](repeating: 1, count: 12)
        for (bytes, reason) in [
            (Array("PROXY TCP4 192.0.2.7 127.0.0.1 40000 8912\r\n".utf8), "version 1 (text)"),
            (unixHeader, "UNIX socket"),
            (udpHeader, "UDP; ferryd serves TCP"),
            (Array(Self.header(client: "192.0.2.7").prefix(20)), "no whole PROXY header within the login timeout (20 bytes)"),
            ([], "no whole PROXY header within the login timeout (0 bytes)"),
        ] as [([UInt8], String)] {
            let reply = try Self.refusal(port: daemon.port, sending: bytes)
            #expect(reply.code == .badRequest)
            #expect(reply.message.contains(required) && reply.message.contains(reason), "\(reply.message)")
            #expect(eventually { !Self.lines(daemon, containing: "refused 127.0.0.1:", "a trusted proxy", reason).isEmpty }, "\(daemon.log.suffix(800))")
        }
        // Through a header, the same daemon serves as ever.
        let viaHeader = try Self.carol(daemon, behind: Self.header(client: "192.0.2.7"))
        #expect(try viaHeader.list("").entries.isEmpty)
        #expect(daemon.process.isRunning)
    }

    @Test func aHeaderFromAnUntrustedPeerIsRefused() throws {
        let trusting = try FerrydProcess(server: "trusted_proxies = 127.0.0.1\n")
        let reply = try Self.refusal(port: trusting.port, source: "127.0.0.2", sending: Self.header(client: "192.0.2.7"))
        #expect(reply.code == .badRequest)
        #expect(reply.message == "this server takes a PROXY protocol header only from its trusted_proxies, and 127.0.0.2 is not one of them")
        #expect(eventually { !Self.lines(trusting, containing: "peer=127.0.0.2:", "sent a PROXY protocol header, but 127.0.0.2 is not in trusted_proxies").isEmpty },
                "\(trusting.log.suffix(800))")
        #expect(Self.lines(trusting, containing: "192.0.2.7").isEmpty, "the claimed client is believed nowhere")
        // Not even a version 1 header.
        let text = try Self.refusal(port: trusting.port, source: "127.0.0.2", sending: Array("PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\n".utf8))
        #expect(text.message.contains("127.0.0.2 is not one of them"))

        let trustingNone = try FerrydProcess()
        #expect(try Self.refusal(port: trustingNone.port, sending: Self.header(client: "192.0.2.7")).message.contains("127.0.0.1 is not one of them"))

        // In clear text the hello goes first; the header then arrives where the first frame should.
        let clear = try FerrydProcess(sections: "[tls]\nenabled = false\n")
        let clearReply = try Self.refusal(port: clear.port, sending: Self.header(client: "192.0.2.7"))
        #expect(clearReply.message.contains("127.0.0.1 is not one of them"), "\(clearReply)")
        #expect(eventually { !Self.lines(clear, containing: "sent a PROXY protocol header, but 127.0.0.1 is not in trusted_proxies").isEmpty })
        #expect(trustingNone.servesOthers() && clear.process.isRunning && trusting.process.isRunning)
    }

    @Test func bansAndConnectionLimitsGoByTheClientsAddress() throws {
        let daemon = try FerrydProcess(server: "trusted_proxies = 127.0.0.1\nban_threshold = 2\nfailed_login_delay = 0.05\nmax_connections_per_address = 2\n")
        for _ in 0..<2 {
            let guesser = try HardConnection(port: daemon.port, tls: true, preamble: Self.header(client: "192.0.2.66"))
            #expect(errorCode(try guesser.login(user: "carol", password: "wrong")) == .authFailed)
        }
        let banned = try Self.refusal(port: daemon.port, sending: Self.header(client: "192.0.2.66"))
        #expect(banned.code == .banned)
        #expect(banned.message.hasPrefix("too many failed logins from 192.0.2.66"))
        #expect(eventually { !Self.lines(daemon, containing: "refused 192.0.2.66:40000 (via 127.0.0.1:", "too many failed logins").isEmpty })

        // The proxy's other clients are not banned, nor limited to two connections between them.
        var held: [HardConnection] = []
        for client in ["192.0.2.9", "192.0.2.9", "192.0.2.10", "192.0.2.11", "2001:db8::9"] {
            held.append(try Self.carol(daemon, behind: Self.header(client: client)))
        }
        let third = try Self.refusal(port: daemon.port, sending: Self.header(client: "192.0.2.9"))
        #expect(third.code == .busy)
        #expect(third.message == "too many connections from 192.0.2.9")
        held.removeAll()
        #expect(eventually { (try? Self.carol(daemon, behind: Self.header(client: "192.0.2.9"))) != nil }, "places given back at the close")
    }

    @Test func trustedProxiesFollowsAReload() throws {
        let daemon = try FerrydProcess()
        #expect(try Self.refusal(port: daemon.port, sending: Self.header(client: "192.0.2.7")).message.contains("is not one of them"))
        var text = try String(contentsOf: daemon.config, encoding: .utf8)
        text = text.replacingOccurrences(of: "[server]\n", with: "[server]\ntrusted_proxies = 127.0.0.0/8\n")
        try text.write(to: daemon.config, atomically: true, encoding: .utf8)
        daemon.hangUp()
        #expect(eventually { daemon.logLines(containing: "reloaded") == 1 })
        let proxied = try Self.carol(daemon, behind: Self.header(client: "192.0.2.7", port: 41_000))
        #expect(try proxied.list("").entries.isEmpty)
        #expect(eventually { !Self.lines(daemon, containing: "login carol", "peer=192.0.2.7:41000").isEmpty })

        try text.replacingOccurrences(of: "trusted_proxies = 127.0.0.0/8\n", with: "").write(to: daemon.config, atomically: true, encoding: .utf8)
        daemon.hangUp()
        #expect(eventually { daemon.logLines(containing: "reloaded") == 2 })
        #expect(daemon.servesOthers(), "a direct client again")
    }
}
