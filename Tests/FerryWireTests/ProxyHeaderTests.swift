import FerryWire
import Testing

@Suite("ProxyHeader")
struct ProxyHeaderTests {
    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    static func endpoint(_ address: String, _ port: Int) -> ProxyHeader.Endpoint {
        ProxyHeader.Endpoint(address: IPAddress(address)!, port: port)
    }

    /// A header written out byte by byte: version and command, family and transport, then `block`.
    static func header(_ command: UInt8, _ family: UInt8, _ block: [UInt8], length: Int? = nil) -> [UInt8] {
        let count = length ?? block.count
        return signature + [command, family, UInt8(count >> 8), UInt8(count & 0xff)] + block
    }

    /// 192.0.2.7:51000 -> 198.51.100.1:8912, the address block of TCP over IPv4.
    static let ipv4Block: [UInt8] = [192, 0, 2, 7, 198, 51, 100, 1, 0xC7, 0x38, 0x22, 0xD0]

    @Test("TCP over IPv4, as HAProxy sends it, byte by byte")
    func ipv4() {
        let bytes = Self.header(0x21, 0x11, Self.ipv4Block)
        #expect(bytes.count == 28)
        let expected = ProxyHeader.proxied(source: Self.endpoint("192.0.2.7", 51000), destination: Self.endpoint("198.51.100.1", 8912))
        #expect(ProxyHeader.parse(bytes) == .header(expected, length: 28))
        #expect(expected.encoded() == bytes)
        if case .proxied(let source, _) = expected { #expect(source.description == "192.0.2.7:51000") }
    }

    @Test("TCP over IPv6, with the client written as ports and addresses are elsewhere")
    func ipv6() throws {
        let source = Self.endpoint("2001:db8::7", 443)
        let destination = Self.endpoint("2001:db8::1", 8912)
        let bytes = ProxyHeader.proxied(source: source, destination: destination).encoded()
        #expect(bytes.count == 16 + 36)
        #expect(bytes[13] == 0x21)
        #expect(ProxyHeader.parse(bytes) == .header(.proxied(source: source, destination: destination), length: 52))
        #expect(source.description == "[2001:db8::7]:443")
        // An IPv4 client that reached an IPv6 listener arrives IPv4-mapped, and is the IPv4 address.
        let mapped = Array(bytes.prefix(16)) + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 9] + Array(bytes[32...])
        guard case .header(.proxied(let client, _), _) = ProxyHeader.parse(mapped) else {
            Issue.record("not parsed: \(ProxyHeader.parse(mapped))")
            return
        }
        #expect(client.description == "192.0.2.9:443")
    }

    @Test("LOCAL: no address, whatever family and block it carries")
    func local() {
        #expect(ProxyHeader.parse(Self.header(0x20, 0x00, [])) == .header(.local, length: 16))
        #expect(ProxyHeader.local.encoded() == Self.header(0x20, 0x00, []))
        #expect(ProxyHeader.parse(Self.header(0x20, 0x11, Self.ipv4Block)) == .header(.local, length: 28), "addresses skipped")
        #expect(ProxyHeader.parse(Self.header(0x20, 0x31, [UInt8](repeating: 0, count: 216))) == .header(.local, length: 232))
    }

    @Test("TLVs after the addresses are skipped, and what follows the header is not read")
    func tlvs() {
        let tlvs: [UInt8] = [0x04, 0x00, 0x03, 0, 0, 0] + [0x05, 0x00, 0x02, 0xAB, 0xCD] + [0x01, 0x00, 0x00]
        let header = Self.header(0x21, 0x11, Self.ipv4Block + tlvs)
        let expected = ProxyHeader.proxied(source: Self.endpoint("192.0.2.7", 51000), destination: Self.endpoint("198.51.100.1", 8912))
        #expect(ProxyHeader.parse(header + [0x16, 0x03, 0x01]) == .header(expected, length: header.count))
        #expect(expected.encoded(tlvs: tlvs) == header)
    }

    @Test("a header cut anywhere asks for exactly the bytes still missing")
    func needMore() {
        let whole = Self.header(0x21, 0x11, Self.ipv4Block + [0x04, 0x00, 0x01, 0x00])
        for cut in 0..<whole.count {
            let expected = cut < 16 ? 16 - cut : whole.count - cut
            #expect(ProxyHeader.parse(whole.prefix(cut)) == .needMore(expected), "cut at \(cut)")
        }
    }

    @Test("anything else is invalid, and says what it is", arguments: [
        ([0x16, 0x03, 0x01, 0x00], "starts with a TLS handshake"),
        ([0x00, 0x00, 0x00, 0x10, 0x7B], "starts with a Ferry frame"),
        (Array("PROXY TCP4 192.0.2.7 198.51.100.1 51000 8912\r\n".utf8), "version 1 (text)"),
        (Array("PRO".utf8), "version 1 (text)"),
        ([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B], "does not start with the PROXY protocol v2 signature"),
        ([0x0D, 0x0A, 0x0D, 0x0B], "does not start with the PROXY protocol v2 signature"),
        (ProxyHeaderTests.header(0x11, 0x11, ProxyHeaderTests.ipv4Block), "version 1, not 2"),
        (ProxyHeaderTests.header(0x31, 0x11, ProxyHeaderTests.ipv4Block), "version 3, not 2"),
        (ProxyHeaderTests.header(0x22, 0x11, ProxyHeaderTests.ipv4Block), "unknown PROXY command (2)"),
        (ProxyHeaderTests.header(0x2F, 0x11, ProxyHeaderTests.ipv4Block), "unknown PROXY command (15)"),
        (ProxyHeaderTests.header(0x21, 0x31, [UInt8](repeating: 0, count: 216)), "UNIX socket"),
        (ProxyHeaderTests.header(0x21, 0x32, [UInt8](repeating: 0, count: 216)), "UNIX socket"),
        (ProxyHeaderTests.header(0x21, 0x00, []), "unspecified address family"),
        (ProxyHeaderTests.header(0x21, 0x12, ProxyHeaderTests.ipv4Block), "UDP"),
        (ProxyHeaderTests.header(0x21, 0x10, ProxyHeaderTests.ipv4Block), "unspecified or unknown transport (0)"),
        (ProxyHeaderTests.header(0x21, 0x13, ProxyHeaderTests.ipv4Block), "unspecified or unknown transport (3)"),
        (ProxyHeaderTests.header(0x21, 0x41, ProxyHeaderTests.ipv4Block), "unknown address family 4"),
        (ProxyHeaderTests.header(0x21, 0x11, Array(ProxyHeaderTests.ipv4Block.prefix(11))), "shorter than 12 bytes"),
        (ProxyHeaderTests.header(0x21, 0x21, ProxyHeaderTests.ipv4Block), "shorter than 36 bytes"),
        (ProxyHeaderTests.header(0x21, 0x11, ProxyHeaderTests.ipv4Block + [0x04, 0x00]), "TLVs after the addresses are malformed"),
        (ProxyHeaderTests.header(0x21, 0x11, ProxyHeaderTests.ipv4Block + [0x04, 0x00, 0x05, 0x00]), "TLVs after the addresses are malformed"),
        (ProxyHeaderTests.header(0x21, 0x11, [], length: 2049), "over the limit of 2064"),
        (ProxyHeaderTests.header(0x20, 0x00, [], length: 0xFFFF), "over the limit of 2064"),
    ] as [([UInt8], String)])
    func invalid(bytes: [UInt8], mention: String) {
        guard case .invalid(let reason) = ProxyHeader.parse(bytes) else {
            Issue.record("accepted: \(ProxyHeader.parse(bytes))")
            return
        }
        #expect(reason.contains(mention), "\(reason)")
    }

    @Test("the longest header accepted is 2064 bytes, TLVs included")
    func longest() {
        let padding: [UInt8] = [0x04, 0x07, 0xF1] + [UInt8](repeating: 0, count: 2048 - 12 - 3)
        let bytes = Self.header(0x21, 0x11, Self.ipv4Block + padding)
        #expect(bytes.count == ProxyHeader.maximumLength)
        guard case .header(_, let length) = ProxyHeader.parse(bytes) else {
            Issue.record("refused: \(ProxyHeader.parse(bytes))")
            return
        }
        #expect(length == 2064)
    }

    @Test("the first bytes of a connection are told apart", arguments: [
        (ProxyHeaderTests.signature, true),
        (Array(ProxyHeaderTests.signature.prefix(5)), true),
        (Array(ProxyHeaderTests.signature.prefix(4)), false),
        (Array("PROXY TCP4 ".utf8), true),
        (Array("PROXY".utf8), true),
        (Array("PROXZ".utf8), false),
        ([0x16, 0x03, 0x01, 0x02, 0x00], false),
        ([0x00, 0x00, 0x00, 0x10, 0x7B], false),
    ] as [([UInt8], Bool)])
    func looksLikeHeader(bytes: [UInt8], expected: Bool) {
        #expect(ProxyHeader.looksLikeHeader(bytes) == expected)
    }

    @Test("a header read as protocol 1's first frame length is recognised")
    func frameLength() {
        for start in [Self.signature, Array("PROXY TCP4".utf8)] {
            let length = start.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            #expect(ProxyHeader.startsHeader(frameLength: length))
        }
        #expect(!ProxyHeader.startsHeader(frameLength: 65_537))
    }
}
