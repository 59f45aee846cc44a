import Foundation
import Testing

/// `--host [USER@]HOST[:PORT]`, `ferry USER@HOST`, FERRY_HOST and the client's config file, through the
/// built `ferry` against a real server.
@Suite struct HostConfigTests {
    static let password = ["FERRY_PASSWORD": TestServer.password]

    /// A server with one file in its share, to see in listings.
    static func server(tls: Bool = false) throws -> TestServer {
        let server = try TestServer(tls: tls)
        try Data("hi".utf8).write(to: server.url("marker.txt"))
        return server
    }

    static func ferry(_ arguments: [String], environment: [String: String] = [:], input: String = "") throws -> CommandLineTests.Outcome {
        try CommandLineTests.run("ferry", arguments, environment: password.merging(environment) { $1 }, input: input)
    }

    /// A `[host NAME]` section for a server on 127.0.0.1, in clear text unless `tls`, then `more` lines.
    static func alias(_ name: String = "work", port: Int, user: String = "alice", tls: Bool = false, _ more: String = "") -> String {
        "[host \(name)]\naddress = 127.0.0.1\nport = \(port)\nuser = \(user)\n" + (tls ? "" : "tls = false\n") + more
    }

    /// Writes `text` as `$XDG_CONFIG_HOME/ferry/config` under `local`; the environment that finds it.
    static func defaultConfig(_ text: String, in local: LocalDirectory) throws -> [String: String] {
        let directory = local.file(".config/ferry")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try text.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        return ["HOME": local.path, "XDG_CONFIG_HOME": local.file(".config").path]
    }

    @Test func anAliasWithPortAndUserReachesTheServer() throws {
        let server = try Self.server()
        let local = try LocalDirectory()
        let environment = try Self.defaultConfig(Self.alias(port: server.port), in: local)
        let ls = try Self.ferry(["--host", "work", "ls"], environment: environment)
        #expect(ls.status == 0, "stderr: \(ls.stderr)")
        #expect(ls.stdout.contains("marker.txt"))

        let after = try Self.ferry(["ls", "--host", "work"], environment: environment)
        #expect(after.status == 0 && after.stdout.contains("marker.txt"), "--host after the command too; stderr: \(after.stderr)")

        try Self.alias("other", port: server.port).write(to: local.file("other.conf"), atomically: true, encoding: .utf8)
        let explicit = try Self.ferry(["--config", local.file("other.conf").path, "--host", "other", "ls"], environment: environment)
        #expect(explicit.status == 0 && explicit.stdout.contains("marker.txt"), "stderr: \(explicit.stderr)")
    }

    @Test func anAliasesLimitRateIsTheShellsUntilAnOptionSaysOtherwise() throws {
        let server = try Self.server()
        let local = try LocalDirectory()
        let environment = try Self.defaultConfig(Self.alias(port: server.port, "limit_rate = 512K\n"), in: local)
        let shell = try Self.ferry(["--host", "work"], environment: environment, input: "limit-rate\nlimit-rate off\n")
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        #expect(shell.stdout.contains("Transfers are limited to 512.0 KiB/s."))
        #expect(shell.stdout.contains("Transfers are not limited."))
    }

    @Test func anAliasIsPinnedInKnownHostsUnderItsRealAddressAndPort() throws {
        let server = try Self.server(tls: true)
        let local = try LocalDirectory()
        let environment = try Self.defaultConfig(Self.alias(port: server.port, tls: true), in: local)
        let first = try Self.ferry(["--host", "work", "ls"], environment: environment)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stderr.contains("first contact with 127.0.0.1:\(server.port);"))
        let knownHosts = try String(contentsOf: local.file(".config/ferry/known_hosts"), encoding: .utf8)
        #expect(knownHosts == "127.0.0.1:\(server.port) \(try #require(server.server.fingerprint))\n")

        let strict = try Self.ferry(["--strict", "--host", "work", "ls"], environment: environment)
        #expect(strict.status == 0, "the recorded key is found again; stderr: \(strict.stderr)")
        let direct = try Self.ferry(["--strict", "--host", "alice@127.0.0.1:\(server.port)", "ls"], environment: environment)
        #expect(direct.status == 0, "the same server without the alias is the same known host; stderr: \(direct.stderr)")
    }

    @Test func userHostAndPortInOneHostOption() throws {
        let server = try Self.server()
        let ls = try Self.ferry(["--host", "alice@127.0.0.1:\(server.port)", "--no-tls", "ls"])
        #expect(ls.status == 0, "stderr: \(ls.stderr)")
        #expect(ls.stdout.contains("marker.txt"))

        let conflict = try Self.ferry(["--host", "alice@127.0.0.1:\(server.port)", "--port", "1", "--no-tls", "ls"])
        #expect(conflict.status == 1)
        #expect(conflict.stderr == "ferry: --host alice@127.0.0.1:\(server.port) and --port 1 name two ports: give one\n")

        let badPort = try Self.ferry(["--host", "127.0.0.1:99999", "ls"])
        #expect(badPort.status == 1)
        #expect(badPort.stderr == "ferry: --host \"127.0.0.1:99999\": the port must be a number from 1 to 65535, not \"99999\"\n")
    }

    @Test func fERRY_HOSTAndFERRY_PORTAreTheDefaultServer() throws {
        let server = try Self.server()
        let separate = try Self.ferry(["--no-tls", "ls"],
                                      environment: ["FERRY_HOST": "127.0.0.1", "FERRY_PORT": "\(server.port)", "FERRY_USER": "alice"])
        #expect(separate.status == 0, "stderr: \(separate.stderr)")
        #expect(separate.stdout.contains("marker.txt"))

        let written = try Self.ferry(["--no-tls", "ls"], environment: ["FERRY_HOST": "alice@127.0.0.1:\(server.port)"])
        #expect(written.status == 0 && written.stdout.contains("marker.txt"), "stderr: \(written.stderr)")

        let badPort = try Self.ferry(["--no-tls", "ls"], environment: ["FERRY_PORT": "eighty"])
        #expect(badPort.status == 1)
        #expect(badPort.stderr == "ferry: FERRY_PORT \"eighty\": the port must be a number from 1 to 65535\n")
    }

    @Test func aServerAsTheFirstWordOpensTheShellInBatchMode() throws {
        let server = try Self.server()
        let target = "alice@127.0.0.1:\(server.port)"
        let after = try Self.ferry([target, "--no-tls"], input: "ls\n")
        #expect(after.status == 0, "stderr: \(after.stderr)")
        #expect(after.stdout.contains("marker.txt"))

        let before = try Self.ferry(["--no-tls", "-q", target], input: "pwd\nls\nbye\n")
        #expect(before.status == 0, "stderr: \(before.stderr)")
        #expect(before.stdout.contains("Remote working directory: /"))
        #expect(before.stdout.contains("marker.txt"))

        let twice = try Self.ferry([target, "--host", "elsewhere"])
        #expect(twice.status == 1)
        #expect(twice.stderr == "ferry: \(target) and --host both name the server: give one\n")
    }

    @Test func aConfigErrorIsOneLineWithFileAndLine() throws {
        let local = try LocalDirectory()
        let environment = try Self.defaultConfig("# servers\n[host work]\nport = 2222\nprot = 1\n", in: local)
        let result = try Self.ferry(["--host", "work", "ls"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr == "ferry: ~/.config/ferry/config:4: unknown key \"prot\" in [host work]\n")
        #expect(result.stdout.isEmpty)

        let section = try Self.ferry(["ls"], environment: try Self.defaultConfig("[hosts work]\n", in: local))
        #expect(section.status == 1)
        #expect(section.stderr == "ferry: ~/.config/ferry/config:1: unknown section [hosts work]; sections are [host NAME] and [defaults]\n")

        let missing = local.file("missing.conf").path
        let explicit = try Self.ferry(["--config", missing, "ls"], environment: environment)
        #expect(explicit.status == 1)
        #expect(explicit.stderr == "ferry: cannot read ~/missing.conf: no such file\n")
    }

    @Test func commandLineOptionsOverrideTheAlias() throws {
        let server = try Self.server()
        let local = try LocalDirectory()
        let environment = try Self.defaultConfig(Self.alias(port: 1, user: "nobody"), in: local)
        let wrong = try Self.ferry(["--host", "work", "ls"], environment: environment)
        #expect(wrong.status == 1, "the alias's own port has nothing listening")
        #expect(wrong.stderr.hasPrefix("ferry: cannot connect to 127.0.0.1:1: "))

        let options = try Self.ferry(["--host", "work", "--port", "\(server.port)", "--user", "alice", "ls"], environment: environment)
        #expect(options.status == 0, "stderr: \(options.stderr)")
        #expect(options.stdout.contains("marker.txt"))

        let written = try Self.ferry(["--host", "alice@work:\(server.port)", "ls"], environment: environment)
        #expect(written.status == 0 && written.stdout.contains("marker.txt"), "stderr: \(written.stderr)")
    }

    @Test func theAliasOverridesTheEnvironmentAndGivesTheDownloadDirectory() throws {
        let server = try Self.server()
        let local = try LocalDirectory()
        var environment = try Self.defaultConfig(Self.alias(port: server.port, "quiet = true\ndir = \(local.file("inbox").path)\n"),
                                                 in: local)
        environment["FERRY_PORT"] = "1"
        environment["FERRY_USER"] = "nobody"
        let get = try Self.ferry(["--host", "work", "get", "marker.txt"], environment: environment)
        #expect(get.status == 0, "stderr: \(get.stderr)")
        #expect(get.stderr.isEmpty, "quiet = true")
        #expect(try String(contentsOf: local.file("inbox/marker.txt"), encoding: .utf8) == "hi")
    }
}
