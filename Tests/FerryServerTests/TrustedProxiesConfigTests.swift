import FerryServer
import FerryWire
import Testing

/// config.ini's `[server] trusted_proxies`: addresses and CIDR ranges, and mistakes at their line.
@Suite("trusted_proxies in config.ini")
struct TrustedProxiesConfigTests {
    private func load(_ text: String) throws -> (ConfigFile, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try directory.write("config.ini", text)
        return (try ConfigFile(path: directory.url("config.ini")), directory)
    }

    @Test("absent or empty: no proxy is trusted", arguments: ["", "[server]\n", "[server]\ntrusted_proxies =\n"])
    func noneByDefault(text: String) throws {
        #expect(try load(text).0.configuration.trustedProxies.isEmpty)
    }

    @Test("a comma-separated list of IPv4 and IPv6 addresses and ranges")
    func list() throws {
        let (config, _) = try load("[server]\ntrusted_proxies = 127.0.0.1,10.0.0.0/8 ,  ::1, fd00::/8,::ffff:192.168.0.0/112, 0.0.0.0/0\n")
        let ranges = config.configuration.trustedProxies
        #expect(ranges.map(\.description) == ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8", "192.168.0.0/16", "0.0.0.0/0"])
        func trusted(_ address: String) -> Bool { ranges.contains { $0.contains(IPAddress(address)!) } }
        #expect(trusted("10.20.30.40"))
        #expect(trusted("::1"))
        #expect(trusted("fd12::9"))
        #expect(trusted("203.0.113.5"), "0.0.0.0/0 holds every IPv4 address")
        #expect(!trusted("2001:db8::1"))
    }

    @Test("a bad entry is an error at its line that quotes it", arguments: [
        ("10.0.0.300", "[server] trusted_proxies entry \"10.0.0.300\" is not an IP address or CIDR range"),
        ("127.0.0.1, proxy.internal", "[server] trusted_proxies entry \"proxy.internal\" is not an IP address"),
        ("10.0.0.0/33", "[server] trusted_proxies entry \"10.0.0.0/33\": the prefix length after / must be a whole number from 0 to 32"),
        ("fd00::/129", "from 0 to 128"),
        ("10.0.0.1/8", "[server] trusted_proxies entry \"10.0.0.1/8\" has bits set past its /8 prefix; did you mean 10.0.0.0/8?"),
        ("127.0.0.1,,::1", "[server] trusted_proxies has an empty entry"),
        ("127.0.0.1,", "[server] trusted_proxies has an empty entry"),
        ("fe80::1%eth0", "is not an IP address"),
    ])
    func invalid(value: String, reason: String) throws {
        let error = #expect(throws: ConfigFile.Invalid.self) {
            try load("# proxies\n[server]\nport = 0\n\ntrusted_proxies = \(value)\n")
        }
        #expect(error?.line == 5, "\(String(describing: error))")
        #expect(error?.reason.hasPrefix(reason) == true || error?.reason.contains(reason) == true, "\(String(describing: error))")
    }
}
