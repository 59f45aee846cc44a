import FerryClient
import Foundation
import Testing

@Suite struct ClientConfigTests {
    static let home = "/home/ann"
    static let path = "/home/ann/.config/ferry/config"

    static func parse(_ text: String, path: String = path) throws(ClientError) -> ClientConfig {
        try ClientConfig(parsing: text, path: path, home: home)
    }

    static func error(_ text: String) -> String? {
        message { () throws(ClientError) in _ = try parse(text) }
    }

    /// The message `body` fails with; nil when it succeeds.
    static func message(_ body: () throws(ClientError) -> Void) -> String? {
        do { try body() } catch { return error.message }
        return nil
    }

    @Test func everyKeyIsRead() throws {
        let config = try Self.parse("""
            # my servers
            [host work]
            address = files.example.org
            port = 2222
            user = alice
            known_hosts = ~/work/known_hosts
            strict = yes
            timeout = 7.5
            dir = ~/Downloads
            quiet = true
            limit_rate = 2M

            [host pinned]
            address = [2001:db8::7]
            fingerprint = SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU
            tls = true

            [host lab]
            ca = certs/lab-ca.pem
            [host public]
            ca = system
            [host loop]
            tls = false
            """)
        #expect(config.aliases.map(\.name) == ["work", "pinned", "lab", "public", "loop"])
        #expect(config.alias(named: "work") == HostAlias(name: "work", settings: HostSettings(
            address: "files.example.org", port: 2222, user: "alice", knownHosts: "/home/ann/work/known_hosts", strict: true,
            timeout: 7.5, dir: "/home/ann/Downloads", quiet: true, limitRate: "2M"
        ), line: 2))
        let pinned = try #require(config.alias(named: "pinned")).settings
        #expect(pinned.address == "2001:db8::7", "brackets around an IPv6 address are dropped")
        #expect(pinned.fingerprint == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")
        #expect(pinned.tls == true)
        #expect(config.alias(named: "lab")?.settings.ca == "/home/ann/.config/ferry/certs/lab-ca.pem",
                "a relative CA file is beside the config file")
        #expect(config.alias(named: "public")?.settings.ca == "system")
        #expect(config.alias(named: "loop")?.settings.tls == false)
        #expect(config.alias(named: "Work") == nil, "alias names are exact")
        #expect(config.alias(named: "files.example.org") == nil, "an address is not an alias")
        #expect(config.defaults == HostSettings())
    }

    @Test("[defaults] and [host *] are the same section", arguments: ["[defaults]", "[host *]", "[ defaults ]", "[host   *]"])
    func defaults(header: String) throws {
        let config = try Self.parse("\(header)\nuser = bob\ntimeout = 5\n[host work]\nport = 1\n")
        #expect(config.defaults == HostSettings(user: "bob", timeout: 5))
        #expect(config.aliases.map(\.name) == ["work"])
    }

    @Test func emptyValuesAndEmptyFilesSayNothing() throws {
        #expect(try Self.parse("") == ClientConfig())
        #expect(try Self.parse("# nothing\n\n") == ClientConfig())
        let config = try Self.parse("[host work]\nport =\nuser =\n")
        #expect(config.alias(named: "work")?.settings == HostSettings())
    }

    @Test("every error is one line naming the file, with ~, and the line", arguments: [
        ("[host work]\nport = 1\nprot = 2\n", "~/.config/ferry/config:3: unknown key \"prot\" in [host work]"),
        ("\n[defaults]\nhost = x\n", "~/.config/ferry/config:3: unknown key \"host\" in [defaults]"),
        ("[host work]\n[hosts lab]\nport = 1\n", "~/.config/ferry/config:2: unknown section [hosts lab]; sections are [host NAME] and [defaults]"),
        ("[server]\n", "~/.config/ferry/config:1: unknown section [server]; sections are [host NAME] and [defaults]"),
        ("[host]\n", "~/.config/ferry/config:1: a host section names one alias: [host NAME], not [host]"),
        ("[host a b]\n", "~/.config/ferry/config:1: a host section names one alias: [host NAME], not [host a b]"),
        ("[host me@work]\n", "~/.config/ferry/config:1: an alias name has no @, :, [ or ] in [host me@work]"),
        ("[host work]\n\n[host work]\n", "~/.config/ferry/config:3: [host work] again (first at line 1): give each once"),
        ("[defaults]\n[host *]\n", "~/.config/ferry/config:2: [host *] again (first at line 1): give each once"),
        ("port = 1\n", "~/.config/ferry/config:1: key outside any [section]"),
        ("[host work]\nport 1\n", "~/.config/ferry/config:2: expected key = value"),
        ("[host work\n", "~/.config/ferry/config:1: section header must look like [name]"),
        ("[host work]\nport = 0\n", "~/.config/ferry/config:2: port in [host work] must be a number from 1 to 65535"),
        ("[host work]\n\nport = 70000\n", "~/.config/ferry/config:3: port in [host work] must be a number from 1 to 65535"),
        ("[host work]\nstrict = maybe\n", "~/.config/ferry/config:2: strict in [host work] must be true or false"),
        ("[host work]\ntls = 2\n", "~/.config/ferry/config:2: tls in [host work] must be true or false"),
        ("[host work]\nquiet = loud\n", "~/.config/ferry/config:2: quiet in [host work] must be true or false"),
        ("[host work]\ntimeout = 0\n", "~/.config/ferry/config:2: timeout in [host work] must be a number of seconds above 0"),
        ("[host work]\ntimeout = soon\n", "~/.config/ferry/config:2: timeout in [host work] must be a number of seconds above 0"),
        ("[host work]\nfingerprint = MD5:xx\n",
         "~/.config/ferry/config:2: fingerprint in [host work] must be SHA256: and 43 base64 characters, as `ferryd fingerprint` prints"),
        ("[host work]\naddress = a b\n", "~/.config/ferry/config:2: address in [host work] must be a host name or an IP address"),
        ("[host work]\nuser = a b\n", "~/.config/ferry/config:2: user in [host work] must be one word"),
        ("[host work]\nlimit_rate = fast\n", "~/.config/ferry/config:2: limit_rate in [host work] must be bytes per second, optionally with K, M or G (1024s), such as 500K"),
        ("[defaults]\naddress = x\n",
         "~/.config/ferry/config:2: address in [defaults] would send every host to one address: give it in a [host NAME] section"),
        ("[host work]\nstrict = true\ntls = false\n",
         "~/.config/ferry/config:3: tls = false in [host work] cannot go with fingerprint, ca, strict or known_hosts: without TLS there is no key to check"),
        ("[host work]\nca = system\nfingerprint = SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",
         "~/.config/ferry/config:3: ca and fingerprint in [host work] are two ways to trust a server: give one"),
    ])
    func errors(text: String, message: String) {
        #expect(Self.error(text) == message)
    }

    @Test func aFileOutsideHomeIsNamedAsGiven() {
        #expect(Self.message { () throws(ClientError) in _ = try Self.parse("[x]\n", path: "/etc/ferry.conf") }
                == "/etc/ferry.conf:1: unknown section [x]; sections are [host NAME] and [defaults]")
    }

    @Test func theDefaultFileFollowsXDG() {
        #expect(ClientConfig.defaultPath(environment: ["HOME": "/home/ann"]) == "/home/ann/.config/ferry/config")
        #expect(ClientConfig.defaultPath(environment: ["HOME": "/home/ann", "XDG_CONFIG_HOME": "/cfg"]) == "/cfg/ferry/config")
        #expect(ClientConfig.defaultPath(environment: ["HOME": "/home/ann", "XDG_CONFIG_HOME": "relative"])
                == "/home/ann/.config/ferry/config", "a relative XDG_CONFIG_HOME is ignored, as the specification says")
    }

    @Test func aMissingDefaultFileIsNoConfigurationButAMissingExplicitOneIsAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-config-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["HOME": directory.path, "XDG_CONFIG_HOME": directory.path]
        #expect(try ClientConfig.load(path: nil, environment: environment) == ClientConfig())
        let missing = directory.appendingPathComponent("nope.conf").path
        #expect(Self.message { () throws(ClientError) in _ = try ClientConfig.load(path: missing, environment: environment) }
                == "cannot read ~/nope.conf: no such file")

        #expect(try ClientConfig.load(path: "/dev/null", environment: environment) == ClientConfig(), "no configuration, as ssh -F /dev/null")
        #expect(Self.message { () throws(ClientError) in _ = try ClientConfig.load(path: "/", environment: environment) }
                == "cannot read /: Is a directory")

        try FileManager.default.createDirectory(at: directory.appendingPathComponent("ferry"), withIntermediateDirectories: true)
        try "[host work]\nport = 2222\nknown_hosts = kh\n".write(toFile: directory.path + "/ferry/config", atomically: true, encoding: .utf8)
        let config = try ClientConfig.load(path: nil, environment: environment)
        #expect(config.alias(named: "work")?.settings.port == 2222)
        #expect(config.alias(named: "work")?.settings.knownHosts == directory.path + "/ferry/kh")
    }
}
