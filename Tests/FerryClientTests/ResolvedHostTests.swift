import FerryClient
import FerryTLS
import Testing

/// Which source wins: the command line, then the alias, then [defaults], then FERRY_*, then built-ins.
@Suite struct ResolvedHostTests {
    static let key = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
    static let home = ["HOME": "/home/ann"]
    static let config = try! ClientConfig(parsing: """
        [defaults]
        user = dflt
        timeout = 30
        known_hosts = /etc/ferry/known_hosts

        [host work]
        address = files.example.org
        port = 2222
        user = alice
        dir = /srv/in
        limit_rate = 1M

        [host pinned]
        address = 10.0.0.5
        fingerprint = \(key)

        [host loop]
        address = ::1
        tls = false
        quiet = true
        """, path: "/home/ann/.config/ferry/config", home: "/home/ann")

    static func resolve(_ target: String? = nil, _ commandLine: HostSettings = HostSettings(),
                        config: ClientConfig = config, environment: [String: String] = [:]) throws(ClientError) -> ResolvedHost {
        try ResolvedHost(target: target, commandLine: commandLine, config: config,
                         environment: home.merging(environment) { $1 }, loginName: "login")
    }

    static func failure(_ target: String? = nil, _ commandLine: HostSettings = HostSettings(),
                        environment: [String: String] = [:]) -> String? {
        do { _ = try resolve(target, commandLine, environment: environment) } catch { return error.message }
        return nil
    }

    @Test func builtInDefaultsWithNothingElse() throws {
        let resolved = try Self.resolve(config: ClientConfig())
        #expect(resolved.address == "127.0.0.1")
        #expect(resolved.port == 8912)
        #expect(resolved.user == "login")
        #expect(resolved.timeout == 60)
        #expect(resolved.trust == .knownHosts(path: "/home/ann/.config/ferry/known_hosts", strict: false))
        #expect(!resolved.quiet)
        #expect(resolved.dir == nil && resolved.limitRate == nil && resolved.alias == nil)
    }

    @Test func theEnvironmentOverridesBuiltIns() throws {
        let resolved = try Self.resolve(config: ClientConfig(),
                                        environment: ["FERRY_HOST": "files.example.org", "FERRY_PORT": "9000", "FERRY_USER": "eve"])
        #expect(resolved.address == "files.example.org")
        #expect(resolved.port == 9000)
        #expect(resolved.user == "eve")

        let written = try Self.resolve(config: ClientConfig(), environment: ["FERRY_HOST": "bob@[::1]:9001"])
        #expect(written.address == "::1" && written.port == 9001 && written.user == "bob")
        #expect(written.knownHostsName == "[::1]:9001")
    }

    @Test func anAliasOverridesTheEnvironmentAndIsNamedByItsAddressInKnownHosts() throws {
        let resolved = try Self.resolve("work", environment: ["FERRY_PORT": "9000", "FERRY_USER": "eve"])
        #expect(resolved.alias == "work")
        #expect(resolved.address == "files.example.org")
        #expect(resolved.port == 2222)
        #expect(resolved.user == "alice")
        #expect(resolved.dir == "/srv/in")
        #expect(resolved.limitRate == "1M")
        #expect(resolved.knownHostsName == "files.example.org:2222")
        #expect(resolved.timeout == 30, "[defaults] fills what the alias leaves out")
        #expect(resolved.trust == .knownHosts(path: "/etc/ferry/known_hosts", strict: false))
    }

    @Test func fERRY_HOSTMayNameAnAlias() throws {
        let resolved = try Self.resolve(environment: ["FERRY_HOST": "work"])
        #expect(resolved.alias == "work" && resolved.address == "files.example.org" && resolved.port == 2222)
    }

    @Test func defaultsOverrideTheEnvironmentForEveryHost() throws {
        let resolved = try Self.resolve("elsewhere.example.org", environment: ["FERRY_USER": "eve"])
        #expect(resolved.alias == nil)
        #expect(resolved.address == "elsewhere.example.org")
        #expect(resolved.user == "dflt")
        #expect(resolved.port == 8912)
    }

    @Test func theCommandLineOverridesTheAlias() throws {
        let options = try Self.resolve("work", HostSettings(port: 3333, user: "carol", timeout: 2, quiet: true))
        #expect(options.port == 3333 && options.user == "carol" && options.timeout == 2 && options.quiet)
        #expect(options.address == "files.example.org", "the alias still gives the address")

        let written = try Self.resolve("dave@work:4444")
        #expect(written.port == 4444 && written.user == "dave" && written.address == "files.example.org")
    }

    @Test func aHostOnTheCommandLineIgnoresFERRY_HOSTWithItsUserAndPort() throws {
        let resolved = try Self.resolve("elsewhere", config: ClientConfig(), environment: ["FERRY_HOST": "eve@work:1"])
        #expect(resolved.address == "elsewhere" && resolved.port == 8912 && resolved.user == "login")
    }

    @Test func aPortOrUserGivenTwiceDifferentlyInOneSourceIsRefused() throws {
        #expect(Self.failure("alice@h:2000", HostSettings(port: 9000)) == "--host alice@h:2000 and --port 9000 name two ports: give one")
        #expect(Self.failure("alice@h", HostSettings(user: "bob")) == "--host alice@h and --user bob name two users: give one")
        #expect(Self.failure(environment: ["FERRY_HOST": "h:1", "FERRY_PORT": "2"])
                == "FERRY_HOST h:1 and FERRY_PORT 2 name two ports: give one")
        let same = try Self.resolve("alice@h:2000", HostSettings(port: 2000, user: "alice"))
        #expect(same.port == 2000 && same.user == "alice")
    }

    @Test func badTargetsAndPortsSayWhereTheyCameFrom() {
        #expect(Self.failure("h:0") == "--host \"h:0\": the port must be a number from 1 to 65535, not \"0\"")
        #expect(Self.failure(environment: ["FERRY_HOST": "@h"]) == "FERRY_HOST \"@h\": no user name before the @")
        #expect(Self.failure(environment: ["FERRY_PORT": "http"]) == "FERRY_PORT \"http\": the port must be a number from 1 to 65535")
        #expect(Self.failure(nil, HostSettings(fingerprint: "SHA256:short"))?.hasPrefix("--fingerprint SHA256:short: expected SHA256:") == true)
    }

    @Test func trustIsChosenByTheFirstSourceThatSpeaksOfIt() throws {
        #expect(try Self.resolve("pinned").trust == .fingerprint(KeyFingerprint(parsing: Self.key)!))
        #expect(try Self.resolve("loop").trust == .clearText)
        #expect(try Self.resolve("pinned", HostSettings(tls: false)).trust == .clearText, "--no-tls replaces the alias's fingerprint")
        #expect(try Self.resolve("loop", HostSettings(fingerprint: Self.key)).trust == .fingerprint(KeyFingerprint(parsing: Self.key)!),
                "--fingerprint replaces the alias's tls = false")
        #expect(try Self.resolve("loop", HostSettings(ca: "system")).trust == .authorities(file: nil))
        #expect(try Self.resolve("pinned", HostSettings(strict: true)).trust
                == .knownHosts(path: "/etc/ferry/known_hosts", strict: true),
                "--strict asks for known_hosts; its file still comes from [defaults]")
        #expect(try Self.resolve("work", HostSettings(knownHosts: "/tmp/kh")).trust == .knownHosts(path: "/tmp/kh", strict: false))
    }

    @Test func conflictingTrustOptionsOnTheCommandLineAreRefused() {
        #expect(Self.failure(nil, HostSettings(strict: true, tls: false))
                == "--no-tls cannot go with --fingerprint, --ca, --strict or --known-hosts: without TLS there is no key to check")
        #expect(Self.failure(nil, HostSettings(fingerprint: Self.key, ca: "system"))
                == "--ca and --fingerprint are two ways to trust a server: give one")
    }

    @Test func securityFollowsTrust() throws {
        guard case .clearText = try Self.resolve("loop").security(ask: nil) else { Issue.record("clear text"); return }
        guard case .tls(.fingerprint) = try Self.resolve("pinned").security(ask: nil) else { Issue.record("fingerprint"); return }
        guard case .tls(.knownHosts(let file, let strict, let ask)) = try Self.resolve("work").security(ask: { _, _, file in
            file == "/etc/ferry/known_hosts"
        }) else { Issue.record("known_hosts"); return }
        #expect(file.path == "/etc/ferry/known_hosts" && !strict)
        #expect(ask?("files.example.org:2222", KeyFingerprint(parsing: Self.key)!) == true, "the question is told the file")
    }
}
