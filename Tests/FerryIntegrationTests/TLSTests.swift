#if canImport(Glibc)
import Glibc
#endif
import FerryClient
import FerryPosix
import FerryTLS
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Protocol 2 as users meet it: the ferryd and ferry binaries, TLS on by default, the server's key made
/// on the first start and pinned by the client on first contact.
@Suite struct TLSTests {
    /// A config directory of its own for the client's known_hosts, kept across the runs of one test.
    final class ClientHome {
        let directory: LocalDirectory
        init() throws { directory = try LocalDirectory() }
        var knownHosts: URL { directory.file("ferry/known_hosts") }
        var recorded: String { (try? String(contentsOf: knownHosts, encoding: .utf8)) ?? "" }

        /// `ferry --port PORT --user carol ARGUMENTS`, password pw, timed.
        func ferry(_ port: Int, _ arguments: [String], in directory: URL? = nil) throws -> (CommandLineTests.Outcome, Duration) {
            let started = ContinuousClock.now
            let outcome = try CommandLineTests.run("ferry", ["--port", "\(port)", "--user", "carol"] + arguments,
                                                   environment: ["FERRY_PASSWORD": "pw", "XDG_CONFIG_HOME": directory?.path ?? self.directory.path])
            return (outcome, ContinuousClock.now - started)
        }
    }

    static func fingerprintCommand(_ daemon: FerrydProcess) throws -> String {
        let printed = try CommandLineTests.run("ferryd", ["fingerprint", "--config", daemon.config.path])
        #expect(printed.status == 0, "\(printed.stderr)")
        return printed.stdout.trimmingCharacters(in: .newlines)
    }

    @Test func putGetAndLsOverTLSRecordTheKeyThatFerrydFingerprintPrints() throws {
        let daemon = try FerrydProcess()
        let home = try ClientHome()
        let local = try LocalDirectory()
        let content = try randomBytes(3 << 20)
        try content.write(to: local.file("payload.bin"))

        let (put, _) = try home.ferry(daemon.port, ["put", local.file("payload.bin").path])
        #expect(put.status == 0, "\(put.stderr)")
        #expect(put.stderr.contains("first contact with 127.0.0.1:\(daemon.port)"))
        let (get, _) = try home.ferry(daemon.port, ["--quiet", "get", "payload.bin", local.file("back.bin").path])
        #expect(get.status == 0 && get.stderr.isEmpty, "the second time is silent: \(get.stderr)")
        #expect(try Data(contentsOf: local.file("back.bin")) == content)
        let (ls, _) = try home.ferry(daemon.port, ["ls"])
        #expect(ls.status == 0 && ls.stdout.contains("payload.bin"))

        let printed = try Self.fingerprintCommand(daemon)
        #expect(printed == daemon.fingerprint?.text)
        #expect(home.recorded == "127.0.0.1:\(daemon.port) \(printed)\n")
        let key = try FileManager.default.attributesOfItem(atPath: daemon.local.file("ferryd.key").path)
        #expect((key[.posixPermissions] as? Int) == 0o600)
        #expect(daemon.log.contains("made a new server key"))

        // Restarted, it keeps its key: the same fingerprint, and the client connects without a word.
        daemon.stop()
        let again = try FerrydProcess(in: daemon.local)
        #expect(again.fingerprint?.text == printed)
        #expect(!again.log.contains("made a new server key"))
        let (later, _) = try home.ferry(again.port, ["--fingerprint", printed, "ls"])
        #expect(later.status == 0, "\(later.stderr)")
    }

    @Test func anotherServerWithAnotherKeyOnTheSamePortIsRefusedLoudlyAndHearsNothing() throws {
        let first = try FerrydProcess()
        let home = try ClientHome()
        #expect(try home.ferry(first.port, ["ls"]).0.status == 0)
        let port = first.port
        let old = try #require(first.fingerprint)
        first.stop()

        let impostor = try FerrydProcess(server: "port = \(port)\n")
        let new = try #require(impostor.fingerprint)
        #expect(new != old)
        let (outcome, _) = try home.ferry(port, ["ls"])
        #expect(outcome.status == 1)
        for needle in ["WARNING", "HAS CHANGED", old.text, new.text, home.knownHosts.path, "line 1", "ferryd fingerprint", "Nothing was sent"] {
            #expect(outcome.stderr.contains(needle), "missing \"\(needle)\" in: \(outcome.stderr)")
        }
        #expect(home.recorded == "127.0.0.1:\(port) \(old)\n", "the old key stays recorded")
        Thread.sleep(forTimeInterval: 0.2)
        #expect(!impostor.log.contains("login"), "nothing beyond the handshake reached it: \(impostor.log)")
    }

    @Test func fingerprintAndStrictChooseWhatIsTrusted() throws {
        let daemon = try FerrydProcess()
        let home = try ClientHome()
        let key = try #require(daemon.fingerprint)

        let (strict, _) = try home.ferry(daemon.port, ["--strict", "ls"])
        #expect(strict.status == 1 && strict.stderr.contains("--strict") && strict.stderr.contains(key.text), "\(strict.stderr)")
        #expect(home.recorded.isEmpty)

        let (exact, _) = try home.ferry(daemon.port, ["--fingerprint", key.text, "ls"])
        #expect(exact.status == 0, "\(exact.stderr)")
        #expect(home.recorded.isEmpty, "--fingerprint records nothing")

        let wrong = KeyFingerprint(subjectPublicKeyInfo: [1, 2, 3])
        let (refused, _) = try home.ferry(daemon.port, ["--fingerprint", wrong.text, "ls"])
        #expect(refused.status == 1 && refused.stderr.contains(wrong.text) && refused.stderr.contains(key.text), "\(refused.stderr)")

        #expect(try home.ferry(daemon.port, ["ls"]).0.status == 0)
        #expect(try home.ferry(daemon.port, ["--strict", "ls"]).0.status == 0, "--strict connects to a recorded key")
        let (malformed, _) = try home.ferry(daemon.port, ["--fingerprint", "SHA256:short", "ls"])
        #expect(malformed.status == 1 && malformed.stderr.contains("43 base64"), "\(malformed.stderr)")
    }

    /// A relay with its own key, even met on first contact and accepted, relays every SCRAM message but
    /// cannot log in: the two TLS channels export different bytes. Its key is never recorded.
    @Test func aManInTheMiddleWithItsOwnKeyCannotLogInAndIsNotRecorded() throws {
        let daemon = try FerrydProcess()
        let relay = try TLSRelay(to: daemon.port)
        let home = try ClientHome()
        let (outcome, _) = try home.ferry(relay.port, ["ls"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("channel binding did not match") && outcome.stderr.contains("intercepting"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains(relay.identity.fingerprint.text), "it names the key it met")
        #expect(!home.recorded.contains(relay.identity.fingerprint.text), "known_hosts: \(home.recorded)")
        #expect(eventually { daemon.log.contains("channel binding does not match") }, "the server saw it too")
        // The same relay, in-process and step by step: the server answers channel_binding_mismatch.
        let session = try ClientSession.connect(host: "127.0.0.1", port: relay.port, security: .tls(.fingerprint(relay.identity.fingerprint)))
        let error = try #require(throws: ClientError.self) { try session.login(user: "carol", password: "pw") }
        #expect(error.code == .channelBindingMismatch)
        #expect(daemon.servesOthers())
    }

    @Test func clearTextAndTLSMismatchesSayWhichSideSpeaksTLSWithinTenSeconds() throws {
        let tls = try FerrydProcess()
        let clear = try FerrydProcess(sections: "[tls]\nenabled = false\n")
        #expect(clear.fingerprint == nil && clear.log.contains("clear text"))
        let home = try ClientHome()

        let (toClear, tookClear) = try home.ferry(clear.port, ["ls"])
        #expect(toClear.status == 1 && toClear.stderr.contains("speaks clear text") || toClear.stderr.contains("does not speak TLS"), "\(toClear.stderr)")
        #expect(tookClear < .seconds(10))
        #expect(home.recorded.isEmpty)

        let (toTLS, tookTLS) = try home.ferry(tls.port, ["--no-tls", "ls"])
        #expect(toTLS.status == 1 && toTLS.stderr.contains("this server speaks TLS"), "\(toTLS.stderr)")
        #expect(tookTLS < .seconds(10))

        #expect(try home.ferry(clear.port, ["--no-tls", "ls"]).0.status == 0, "clear text is still there when asked for")
    }

    @Test func silentAndTricklingClientsAreDroppedInTimeWhileOthersAreServed() throws {
        let daemon = try FerrydProcess(server: "login_timeout = 2\n")
        let silent = try Socket.connect(host: "127.0.0.1", port: daemon.port, timeout: .seconds(5))
        let trickler = try Socket.connect(host: "127.0.0.1", port: daemon.port, timeout: .seconds(5))
        let started = ContinuousClock.now
        let trickle = Thread {
            for _ in 0..<6 {
                guard (try? [UInt8(0x16)].withUnsafeBytes { try trickler.write($0, timeout: .seconds(1)) }) != nil else { return }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        trickle.start()
        #expect(daemon.servesOthers(), "served while both hang on")

        // The silent one hears, in protocol 1's words, that this is a TLS server; the trickler is cut.
        let channel = MessageChannel(stream: silent)
        let hint = try channel.receive(timeout: .seconds(5))
        #expect(errorCode(hint) == .unsupported, "\(hint)")
        #expect(HardConnection.readsEndOfStream(trickler, within: .seconds(4)))
        #expect(ContinuousClock.now - started < .seconds(4), "the login timeout (2 s) covers the handshake")
        #expect(daemon.servesOthers())
    }

    @Test func whatIsNotTLSOnATLSPortGetsOneAnswerAndNobodyElseNotices() throws {
        let daemon = try FerrydProcess()
        // An HTTP request: not a TLS record.
        let http = try Socket.connect(host: "127.0.0.1", port: daemon.port, timeout: .seconds(5))
        try Array("GET / HTTP/1.0\r\n\r\n".utf8).withUnsafeBytes { try http.write($0, timeout: .seconds(5)) }
        #expect(errorCode(try MessageChannel(stream: http).receive(timeout: .seconds(5))) == .unsupported)
        // A ClientHello cut short, then silence; a ClientHello cut short, then a close.
        for closeEarly in [false, true] {
            let cut = try Socket.connect(host: "127.0.0.1", port: daemon.port, timeout: .seconds(5))
            try ([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC] as [UInt8]).withUnsafeBytes { try cut.write($0, timeout: .seconds(5)) }
            if closeEarly { cut.close() }
        }
        #expect(daemon.servesOthers())

        // openssl s_client: TLS 1.2 is refused, TLS 1.3 is accepted.
        for (version, succeeds) in [("-tls1_2", false), ("-tls1_3", true)] {
            let client = try CommandLineTests.runTool("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(daemon.port)", version, "-brief"])
            #expect((client.status == 0) == succeeds, "\(version): \(client.stderr)")
            if succeeds { #expect(client.stderr.contains("TLSv1.3")) }
        }
        #expect(daemon.servesOthers())
    }

    @Test func aThousandHandshakesAtOnceAreAnsweredAndOthersAreServed() throws {
        let daemon = try FerrydProcess(server: "max_pending_logins = 2048\n")
        let port = daemon.port
        let finished = Locked(0)
        let failures = Locked<[String]>([])
        let threads = (0..<1000).map { index in
            let thread = Thread {
                do {
                    let socket = try Socket.connect(host: "127.0.0.1", port: port, timeout: .seconds(10), source: "127.0.0.\(2 + index % 20)")
                    let stream = try TLSStream(context: try TLSContext.client(.pinning), socket: socket)
                    try stream.handshake(deadline: .now + .seconds(30))
                    stream.close()
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                finished.withLock { $0 += 1 }
            }
            thread.stackSize = 256 * 1024
            return thread
        }
        threads.forEach { $0.start() }
        #expect(daemon.servesOthers(), "served while a thousand handshakes run")
        #expect(eventually(within: .seconds(60)) { finished.withLock { $0 } == 1000 })
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(3) })")
        #expect(daemon.servesOthers())
    }

    /// A certificate from a CA of the test's own (made with the openssl command), verified with --ca:
    /// chain and host name, no pinning; the system's store does not know that CA.
    @Test func aCAIssuedCertificateIsVerifiedWithCA() throws {
        let pki = try LocalDirectory()
        func openssl(_ arguments: [String]) throws {
            let run = try CommandLineTests.runTool("/usr/bin/openssl", arguments, in: pki.url)
            guard run.status == 0 else { throw HardUnexpected("openssl \(arguments.first ?? ""): \(run.stderr)") }
        }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                     "-out", "ca.crt", "-days", "2", "-subj", "/CN=Ferry test CA"])
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
                     "-out", "server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(to: pki.file("san.ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "server.crt", "-days", "2", "-extfile", "san.ext"])
        let daemon = try FerrydProcess(sections: "[tls]\ncertificate = \(pki.file("server.crt").path)\nprivate_key = \(pki.file("server.key").path)\n")
        let home = try ClientHome()

        let (verified, _) = try home.ferry(daemon.port, ["--ca", pki.file("ca.crt").path, "ls"])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(home.recorded.isEmpty, "nothing is pinned with --ca")
        let (byName, _) = try home.ferry(daemon.port, ["--host", "localhost", "--ca", pki.file("ca.crt").path, "ls"])
        #expect(byName.status == 0, "\(byName.stderr)")
        let (system, _) = try home.ferry(daemon.port, ["--ca", "system", "ls"])
        #expect(system.status == 1 && system.stderr.contains("certificate verification"), "\(system.stderr)")
        #expect(!FileManager.default.fileExists(atPath: daemon.local.file("ferryd.key").path), "no key of its own is made")
    }

    @Test func aBrokenKeyStopsFerrydWithOneLineAndALooseOneIsWarnedAbout() throws {
        let daemon = try FerrydProcess()
        daemon.stop()
        let key = daemon.local.file("ferryd.key")
        let good = try Data(contentsOf: key)
        chmod(key.path, 0o644)
        let loose = try FerrydProcess(in: daemon.local)
        #expect(loose.log.contains("can be read by others") && loose.log.contains(key.path))
        loose.stop()

        try Data("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n".utf8).write(to: key)
        let refused = try CommandLineTests.run("ferryd", ["--config", daemon.config.path])
        #expect(refused.status != 0)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(key.path), "\(refused.stderr)")

        try good.write(to: key)
        try FileManager.default.removeItem(at: daemon.local.file("ferryd.crt"))
        let missing = try CommandLineTests.run("ferryd", ["--config", daemon.config.path])
        #expect(missing.status != 0 && missing.stderr.contains("ferryd.crt") && missing.stderr.contains("missing"), "\(missing.stderr)")
        #expect(try Data(contentsOf: key) == good, "a lone key is never replaced")
    }
}
