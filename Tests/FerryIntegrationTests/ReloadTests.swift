#if canImport(Glibc)
import Glibc
#endif
import FerryCrypto
import FerryWire
import Foundation
import Testing

/// config.ini changed under a running ferryd: by SIGHUP, and by `ferryd adduser`, `deluser` and
/// `passwd`, which a running daemon takes at the next login. Against the ferryd binary, over TLS.
@Suite struct ReloadTests {
    /// A long password, as adduser wants one.
    static let password = "correct horse battery"

    @Test func sighupSwapsTheUsersWithoutDisturbingATransferInFlight() throws {
        let daemon = try FerrydProcess(server: "failed_login_delay = 0.05")
        // Far larger than what loopback buffers hold (tens of MiB here): the server is still sending
        // through both reloads.
        let size: UInt64 = 256 << 20
        try makeSparseFile(daemon.share.appendingPathComponent("big.bin"), size: size)
        let carol = try daemon.carol()
        let header = try TransferLogTests.startGet(carol, "big.bin")
        let received = Digest(.md5)
        var count = try Self.readBody(of: carol, upTo: 1 << 20, into: received)
        #expect(count == 1 << 20)

        // Mid-transfer: dave is added, then carol removed, each followed by SIGHUP, with no login between.
        let added = try daemon.ferryd(["adduser", "dave"], input: Self.password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        daemon.hangUp()
        #expect(eventually { daemon.logLines(containing: "(SIGHUP): 2 users (added dave)") == 1 }, "\(daemon.log.suffix(800))")
        let removed = try daemon.ferryd(["deluser", "carol"])
        #expect(removed.status == 0, "\(removed.stderr)")
        daemon.hangUp()
        #expect(eventually { daemon.logLines(containing: "(SIGHUP): 1 user (removed carol)") == 1 }, "\(daemon.log.suffix(800))")

        count += try Self.readBody(of: carol, upTo: size - count, into: received)
        #expect(count == size, "the transfer under way finished whole")
        #expect(received.finalize().hexString == header.md5)
        #expect(try carol.list("").entries.map(\.name) == ["big.bin"], "carol's session goes on as it logged in")

        let (_, dave) = try daemon.login("dave", password: Self.password)
        guard case .authOK = dave else { throw HardUnexpected("dave, added before the SIGHUP, could not log in after it: \(dave)") }
        let (_, again) = try daemon.login("carol", password: "pw")
        #expect(errorCode(again) == .authFailed, "carol, removed, cannot start a new login")
        #expect(daemon.process.isRunning, "SIGHUP no longer ends ferryd")
        #expect(daemon.logLines(containing: "reloaded") == 2, "the logins found nothing more to read: \(daemon.log.suffix(800))")
    }

    /// Reads up to `limit` body bytes (fewer if the connection ends), hashing them; returns how many came.
    static func readBody(of connection: HardConnection, upTo limit: UInt64, into digest: Digest) throws -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var count: UInt64 = 0
        while count < limit {
            let got = try connection.channel.readBody(into: buffer, remaining: limit - count, timeout: .seconds(30))
            if got == 0 { break }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[..<got]))
            count += UInt64(got)
        }
        return count
    }

    @Test func aBrokenFileOnSIGHUPKeepsTheRunningConfigurationAndSaysWhereOnce() throws {
        let daemon = try FerrydProcess(server: "failed_login_delay = 0.05")
        let good = try String(contentsOf: daemon.config, encoding: .utf8)
        var lines = good.components(separatedBy: "\n")
        let serverLine = try #require(lines.firstIndex(of: "[server]"))
        lines.insert("prot = 8913", at: serverLine + 1)
        try lines.joined(separator: "\n").write(to: daemon.config, atomically: true, encoding: .utf8)
        let expected = "\(daemon.config.path):\(serverLine + 2): [server]: unknown key \"prot\""

        daemon.hangUp()
        #expect(eventually { daemon.logLines(containing: expected) == 1 }, "\(daemon.log.suffix(800))")
        #expect(daemon.process.isRunning)
        #expect(daemon.servesOthers(), "carol still logs in: the running configuration stays")
        let (_, stranger) = try daemon.login("mallory", password: "pw")
        #expect(errorCode(stranger) == .authFailed)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(daemon.logLines(containing: "\(daemon.config.path):") == 1, "reported once, not again at each login: \(daemon.log.suffix(1200))")
        #expect(daemon.logLines(containing: "reloaded") == 0)

        // Mended, it is taken at the next login.
        try good.write(to: daemon.config, atomically: true, encoding: .utf8)
        let added = try daemon.ferryd(["adduser", "erin"], input: Self.password + "\n")
        #expect(added.status == 0)
        let (_, erin) = try daemon.login("erin", password: Self.password)
        guard case .authOK = erin else { throw HardUnexpected("erin: \(erin)") }
        // The log comes through a pipe: wait for the line rather than race it.
        #expect(eventually { daemon.logLines(containing: "(changed on disk): 2 users (added erin)") == 1 }, "\(daemon.log.suffix(800))")
    }

    @Test func aUserAddedByAdduserLogsInWithoutARestart() throws {
        let daemon = try FerrydProcess()
        let pid = daemon.process.processIdentifier
        let added = try daemon.ferryd(["adduser", "erin"], input: Self.password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.hasPrefix("added user erin in "))
        let (erin, outcome) = try daemon.login("erin", password: Self.password)
        guard case .authOK = outcome else { throw HardUnexpected("erin could not log in: \(outcome)") }
        #expect(try erin.list("").entries.isEmpty)
        #expect(daemon.process.isRunning && daemon.process.processIdentifier == pid)
        // The log comes through a pipe: wait for the line rather than race it.
        #expect(eventually { daemon.logLines(containing: "(changed on disk): 2 users (added erin)") == 1 }, "\(daemon.log.suffix(800))")
    }

    @Test func adduserRootAndQuotaAreHonoured() throws {
        let daemon = try FerrydProcess()
        let own = daemon.local.file("frank")
        try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
        let added = try daemon.ferryd(["adduser", "frank", "--root", own.path, "--quota", "1K"], input: Self.password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        let text = try String(contentsOf: daemon.config, encoding: .utf8)
        #expect(text.contains("root = \(own.path)\n"))
        #expect(text.contains("quota = 1K\n"))

        let (frank, outcome) = try daemon.login("frank", password: Self.password)
        guard case .authOK = outcome else { throw HardUnexpected("frank: \(outcome)") }
        let small = [UInt8](repeating: 7, count: 600)
        guard case .stored = try frank.put("small.bin", small) else { throw HardUnexpected("a put within the quota was refused") }
        #expect(FileManager.default.contents(atPath: own.appendingPathComponent("small.bin").path) == Data(small), "stored in frank's own root")
        #expect(!FileManager.default.fileExists(atPath: daemon.share.appendingPathComponent("small.bin").path))
        #expect(errorCode(try frank.put("more.bin", [UInt8](repeating: 1, count: 600))) == .tooLarge, "600 + 600 bytes pass 1 KiB")

        let missing = try daemon.ferryd(["adduser", "gus", "--root", daemon.local.file("absent").path], input: Self.password + "\n")
        #expect(missing.status == 1)
        #expect(missing.stderr == "ferryd: --root \(daemon.local.file("absent").path): No such file or directory\n")
        let badQuota = try daemon.ferryd(["adduser", "gus", "--quota", "lots"], input: Self.password + "\n")
        #expect(badQuota.status != 0)
        #expect(!(try String(contentsOf: daemon.config, encoding: .utf8)).contains("[user.gus]"))
    }

    @Test func aShortPasswordIsRefusedUnlessAllowedWeak() throws {
        let local = try LocalDirectory()
        let config = try DaemonTests.configWithCarol(in: local)
        let before = try String(contentsOf: config, encoding: .utf8)
        let refused = try CommandLineTests.run("ferryd", ["adduser", "gina", "--config", config.path], input: "short\n")
        #expect(refused.status == 1)
        #expect(refused.stderr == "ferryd: the password has 5 characters; use at least 8 (or --allow-weak to accept it)\n")
        #expect(try String(contentsOf: config, encoding: .utf8) == before, "nothing written")
        let sevenOK = try CommandLineTests.run("ferryd", ["adduser", "gina", "--config", config.path], input: "1234567\n")
        #expect(sevenOK.status == 1)
        let eight = try CommandLineTests.run("ferryd", ["adduser", "gina", "--config", config.path], input: "12345678\n")
        #expect(eight.status == 0, "\(eight.stderr)")
        let weak = try CommandLineTests.run("ferryd", ["adduser", "hal", "--allow-weak", "--config", config.path], input: "short\n")
        #expect(weak.status == 0, "\(weak.stderr)")
        let passwd = try CommandLineTests.run("ferryd", ["passwd", "hal", "--config", config.path], input: "tiny\n")
        #expect(passwd.status == 1, "passwd applies the same rule")
        #expect(try ConfigFileText(config).users == ["carol", "gina", "hal"])
    }

    @Test func passwdAndDeluserTakeEffectLiveAndLeaveSessionsAlone() throws {
        let daemon = try FerrydProcess(server: "failed_login_delay = 0.05")
        let carol = try daemon.carol()
        let changed = try daemon.ferryd(["passwd", "carol"], input: Self.password + "\n")
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(changed.stdout.hasPrefix("changed the password of carol in "))
        #expect(errorCode(try daemon.login("carol", password: "pw").outcome) == .authFailed, "the old password no longer works")
        let (_, renewed) = try daemon.login("carol", password: Self.password)
        guard case .authOK = renewed else { throw HardUnexpected("the new password: \(renewed)") }
        #expect(try carol.list("").entries.isEmpty, "the session logged in before goes on")

        let removed = try daemon.ferryd(["deluser", "carol"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(errorCode(try daemon.login("carol", password: Self.password).outcome) == .authFailed)
        #expect(try carol.list("").entries.isEmpty, "and goes on after deluser too, until it ends")

        for command in ["deluser", "passwd"] {
            let absent = try daemon.ferryd([command, "nobody"], input: Self.password + "\n")
            #expect(absent.status == 1)
            #expect(absent.stderr == "ferryd: \(daemon.config.path) has no user nobody\n")
        }
    }

    @Test func theUserCommandsReplaceTheFileAtomicallyKeepingItsModeCommentsAndSections() throws {
        let local = try LocalDirectory()
        let config = try DaemonTests.configWithCarol(in: local)
        let original = "# Operator's notes: keep this line.\n" + (try String(contentsOf: config, encoding: .utf8))
            + "\n# TLS off on this test box.\n[tls]\nenabled = false\n"
        try original.write(to: config, atomically: true, encoding: .utf8)
        #expect(chmod(config.path, 0o600) == 0)
        let inode = { (try FileManager.default.attributesOfItem(atPath: config.path)[.systemFileNumber] as? Int) ?? -1 }
        let before = try inode()

        let added = try CommandLineTests.run("ferryd", ["adduser", "dave", "--read-only", "--config", config.path], input: ReloadTests.password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try inode() != before, "a new file renamed over the old one, not the old one rewritten in place")
        let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the verifiers stay as private as they were")
        let text = try String(contentsOf: config, encoding: .utf8)
        #expect(text.hasPrefix(original), "everything that was there is there, in place; the new user comes last")
        #expect(try ConfigFileText(config).users == ["carol", "dave"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: local.path).sorted() == ["config.ini", "share"], "no temporary file left")

        let removed = try CommandLineTests.run("ferryd", ["deluser", "carol", "--config", config.path])
        #expect(removed.status == 0, "\(removed.stderr)")
        let after = try String(contentsOf: config, encoding: .utf8)
        #expect(after.contains("# Operator's notes: keep this line.\n"))
        #expect(after.contains("# TLS off on this test box.\n[tls]\nenabled = false\n"))
        #expect(try ConfigFileText(config).users == ["dave"])
        #expect(try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int == 0o600)
    }

    /// Mistakes in config.ini, each with the line it is on and the start of what ferryd says about it.
    static let mistakes: [(text: String, line: Int, says: String)] = [
        ("[server]\nport = 0\nlisten = 127.0.0.1\nlsiten = ::1\n", 4, "[server]: unknown key \"lsiten\""),
        ("[server]\nport = 0\nidle_timeout = soon\n", 3, "[server] idle_timeout must be a number of seconds"),
        ("[server]\nport = 0\n\n[sever]\n", 4, "unknown section [sever]"),
        ("[server]\nport = 0\n[user.carol]\nsalt = AAAA\n[user.carol]\nsalt = BBBB\n", 5, "duplicate [user.carol]: this user carol is already defined at line 3"),
        ("[server]\nport = 0\n[user.carol]\nsalt = AAAA\n", 3, "[user.carol] stored_key is missing"),
        ("[server]\nport\n", 2, "expected key = value"),
    ]

    @Test(arguments: 0..<mistakes.count)
    func aMistakeInConfigIsOneLineWithItsNumberAndStatus1(index: Int) throws {
        let (text, line, says) = Self.mistakes[index]
        let local = try LocalDirectory()
        let config = local.file("config.ini")
        try text.write(to: config, atomically: true, encoding: .utf8)
        for arguments in [["--config", config.path], ["adduser", "ivy", "--config", config.path], ["fingerprint", "--config", config.path]] {
            let run = try CommandLineTests.run("ferryd", arguments, input: ReloadTests.password + "\n")
            #expect(run.status == 1, "\(arguments)")
            #expect(run.stderr.hasPrefix("\(config.path):\(line): \(says)"), "\(arguments): \(run.stderr)")
            #expect(run.stderr.filter { $0 == "\n" }.count == 1, "one line: \(run.stderr)")
            #expect(!run.stderr.contains("Usage") && !run.stderr.contains("Error:"), "no usage text: \(run.stderr)")
        }
        #expect(try String(contentsOf: config, encoding: .utf8) == text, "adduser left a broken file alone")
    }

    @Test func aMissingConfigIsOneLineNamingIt() throws {
        let local = try LocalDirectory()
        let path = local.file("absent.ini").path
        for arguments in [["--config", path], ["adduser", "ivy", "--config", path], ["deluser", "ivy", "--config", path]] {
            let run = try CommandLineTests.run("ferryd", arguments, input: ReloadTests.password + "\n")
            #expect(run.status == 1)
            #expect(run.stderr == "\(path): cannot read: No such file or directory\n", "\(arguments)")
        }
    }
}

/// The user names in a config.ini, read as ferryd reads them.
private struct ConfigFileText {
    let users: [String]
    init(_ url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        users = text.split(separator: "\n").filter { $0.hasPrefix("[user.") }.map { String($0.dropFirst(6).dropLast()) }
    }
}
