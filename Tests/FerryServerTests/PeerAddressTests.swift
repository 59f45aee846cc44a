import FerryPosix
import FerryWire
import Testing

/// A client's address is a key of bans and connection counts, so it must read the same whether it
/// came from accept(2) (FerryPosix, inet_ntop) or from a PROXY header (FerryWire's own text form).
@Suite("peer addresses")
struct PeerAddressTests {
    @Test("IPAddress writes a socket's address as inet_ntop does", arguments: [
        "127.0.0.1", "192.0.2.255", "0.0.0.0", "::", "::1", "2001:db8::1", "2001:db8:0:1::1", "2001:db8::1:0:0:1",
        "fe80::1:2:3:4", "1:0:1:1:1:1:1:1", "2001:db8:85a3::8a2e:370:7334", "ff02::fb", "1::", "1:2:3:4:5:6:7:0",
    ])
    func sameText(text: String) throws {
        let socketAddress = try #require(try SocketAddress.resolve(host: text, port: 1).first)
        let address = try #require(IPAddress(bytes: socketAddress.addressBytes))
        #expect(address.description == socketAddress.host)
        #expect(address.description == text)
    }
}
