import FerryClient
import Testing

@Suite struct HostTargetTests {
    @Test("[USER@]HOST[:PORT], with IPv6 in brackets when a port follows", arguments: [
        ("work", nil, "work", nil),
        ("files.example.org", nil, "files.example.org", nil),
        ("alice@work", "alice", "work", nil),
        ("work:2222", nil, "work", 2222),
        ("alice@10.0.0.5:8912", "alice", "10.0.0.5", 8912),
        ("[::1]:8912", nil, "::1", 8912),
        ("bob@[fe80::1%eth0]:1", "bob", "fe80::1%eth0", 1),
        ("[::1]", nil, "::1", nil),
        ("::1", nil, "::1", nil),
        ("alice@2001:db8::7", "alice", "2001:db8::7", nil),
        ("a@b@work:65535", "a@b", "work", 65535),
    ] as [(String, String?, String, Int?)])
    func parses(text: String, user: String?, host: String, port: Int?) throws {
        let target = try HostTarget(parsing: text)
        #expect(target == HostTarget(user: user, host: host, port: port))
    }

    @Test("bad targets are refused, quoting them and saying why", arguments: [
        ("work:0", "the port must be a number from 1 to 65535, not \"0\""),
        ("work:65536", "from 1 to 65535"),
        ("work:http", "from 1 to 65535"),
        ("work:+22", "from 1 to 65535"),
        ("work:", "from 1 to 65535"),
        ("[::1]:99999", "from 1 to 65535"),
        ("[::1", "a [ without its ]"),
        ("[::1]8912", "only :PORT may follow the ]"),
        ("@work", "no user name before the @"),
        ("alice@", "no host"),
        (":8912", "no host"),
        ("", "no host"),
        ("[]:1", "no host"),
        ("my host", "without spaces"),
    ])
    func refuses(text: String, why: String) {
        let error = #expect(throws: ClientError.self) { try HostTarget(parsing: text) }
        #expect(error?.message.hasPrefix("\"\(text)\": ") == true, "\(String(describing: error))")
        #expect(error?.message.contains(why) == true, "\(String(describing: error))")
    }

    @Test("written back as parsed", arguments: ["work", "alice@work:22", "[::1]:8912", "::1", "bob@host"])
    func roundTrips(text: String) throws {
        #expect(try HostTarget(parsing: text).description == text)
    }

    @Test func portsAreDecimalDigitsInRange() {
        #expect(HostTarget.port(parsing: "1") == 1)
        #expect(HostTarget.port(parsing: "08912") == 8912)
        #expect(HostTarget.port(parsing: "65535") == 65535)
        for bad in ["", "0", "65536", "-1", " 22", "22 ", "٢٢", "1e3", "000000022"] {
            #expect(HostTarget.port(parsing: bad) == nil, "\(bad)")
        }
    }
}
