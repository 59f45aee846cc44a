import FerryWire
import Testing

@Suite("IPAddress and AddressRange")
struct AddressRangeTests {
    @Test("addresses are read and written as inet_ntop writes them", arguments: [
        ("192.0.2.7", "192.0.2.7"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("::", "::"),
        ("::1", "::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:0db8:0001:0000:0000:0000:0000:0000", "2001:db8:1::"),
        ("1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1"),
        ("fe80::1:2:3:4", "fe80::1:2:3:4"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("::FFFF:c000:0207", "192.0.2.7"),
        ("64:ff9b::192.0.2.7", "64:ff9b::c000:207"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ])
    func roundTrip(text: String, written: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == written)
        #expect(IPAddress(written) == address)
    }

    @Test("anything else is not an address", arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.-4", "1..3.4", " 1.2.3.4", "1.2.3.4 ",
        "localhost", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::", "::1:", "12345::",
        "fe80::1%eth0", "g::1", "::1.2.3", "1.2.3.4::", "::ffff:1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "0x1.2.3.4",
    ])
    func notAnAddress(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("IPv4 and IPv4-mapped IPv6 are one address")
    func mapped() throws {
        let v4 = try #require(IPAddress("10.1.2.3"))
        #expect(IPAddress("::ffff:10.1.2.3") == v4)
        #expect(IPAddress(bytes: [10, 1, 2, 3]) == v4)
        #expect(IPAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]) == v4)
        #expect(v4.isIPv4)
        #expect(IPAddress("::1")?.isIPv4 == false)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }

    @Test("ranges hold the addresses under their prefix", arguments: [
        ("10.0.0.0/8", "10.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.0", false),
        ("10.0.0.0/8", "::ffff:10.9.9.9", true),
        ("192.0.2.7", "192.0.2.7", true),
        ("192.0.2.7", "192.0.2.8", false),
        ("192.0.2.7/32", "192.0.2.7", true),
        ("192.0.2.0/31", "192.0.2.1", true),
        ("192.0.2.0/31", "192.0.2.2", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "2001:db8::1", false),
        ("::/0", "2001:db8::1", true),
        ("::/0", "203.0.113.9", true),
        ("::1", "::1", true),
        ("::1/128", "::2", false),
        ("fd00::/8", "fdff:1::2", true),
        ("fd00::/8", "fe00::", false),
        ("2001:db8::/33", "2001:db8:7fff::1", true),
        ("2001:db8::/33", "2001:db8:8000::1", false),
        ("::ffff:10.0.0.0/104", "10.3.2.1", true),
        ("::ffff:10.0.0.0/104", "11.3.2.1", false),
        ("::ffff:0:0/96", "1.2.3.4", true),
        ("127.0.0.1", "::1", false),
    ])
    func contains(range: String, address: String, expected: Bool) throws {
        let block = try AddressRange(parsing: range)
        #expect(block.contains(try #require(IPAddress(address))) == expected)
    }

    @Test("ranges are written in their family's notation", arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("::/0", "::/0"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("FD00::/8", "fd00::/8"),
        ("::1", "::1/128"),
    ])
    func written(range: String, written: String) throws {
        #expect(try AddressRange(parsing: range).description == written)
    }

    @Test("bad ranges say what is wrong", arguments: [
        ("", "is not an IP address or CIDR range"),
        ("10.0.0.300", "is not an IP address or CIDR range"),
        ("proxy.example", "is not an IP address or CIDR range"),
        ("/8", "is not an IP address or CIDR range"),
        ("10.0.0.0/", "from 0 to 32"),
        ("10.0.0.0/33", "from 0 to 32"),
        ("10.0.0.0/-1", "from 0 to 32"),
        ("10.0.0.0/08", "from 0 to 32"),
        ("10.0.0.0/8/8", "from 0 to 32"),
        ("10.0.0.0/ 8", "from 0 to 32"),
        ("::/129", "from 0 to 128"),
        ("10.1.2.3/8", "has bits set past its /8 prefix; did you mean 10.0.0.0/8?"),
        ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
        ("::ffff:10.0.0.1/8", "did you mean ::/8?"),
    ])
    func invalid(text: String, mention: String) {
        let error = #expect(throws: AddressRange.Invalid.self) { try AddressRange(parsing: text) }
        #expect(error?.description.contains(mention) == true, "\(String(describing: error))")
        #expect(error?.description.contains("\"\(text)\"") == true, "quotes what was written")
    }
}
