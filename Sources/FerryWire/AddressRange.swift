/// A block of IP addresses in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address (`192.0.2.7`,
/// `::1`): what config.ini's `trusted_proxies` lists.
///
/// IPv4 is matched as its IPv4-mapped IPv6 form (see ``IPAddress``): `10.0.0.0/8` is
/// `::ffff:10.0.0.0/104`, and `::/0` holds every address of both families, while `0.0.0.0/0` holds
/// every IPv4 address and no other.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block.
    public let network: IPAddress
    /// Leading bits that every address of the block shares with ``network``, 0 to 128 (an IPv4
    /// prefix plus 96).
    public let prefixLength: Int

    /// Why a text is not a range, for one line of a configuration error.
    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Parses `ADDRESS` or `ADDRESS/PREFIX` (0-32 for IPv4, 0-128 for IPv6, decimal without leading
    /// zeros). An address with bits set past the prefix (`10.1.2.3/8`) is refused: it is most likely a
    /// typo, and the error says which block was meant.
    public init(parsing text: String) throws(Invalid) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            throw Invalid(description: "\"\(text)\" is not an IP address or CIDR range (such as 10.0.0.0/8 or fd00::/8)")
        }
        let written = parts[0].contains(":") ? 128 : 32
        var length = written
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  digits.count == 1 || digits.first != "0", let value = Int(digits), value <= written else {
                throw Invalid(description: "\"\(text)\": the prefix length after / must be a whole number from 0 to \(written)")
            }
            length = value
        }
        let total = written == 32 ? length + 96 : length
        let masked = Self.masked(address, to: total)
        guard masked == address else {
            let meant = AddressRange(network: masked, prefixLength: total)
            throw Invalid(description: "\"\(text)\" has bits set past its /\(length) prefix; did you mean \(meant)?")
        }
        network = address
        prefixLength = total
    }

    private init(network: IPAddress, prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    /// True when `address` is in the block.
    public func contains(_ address: IPAddress) -> Bool {
        Self.masked(address, to: prefixLength) == network
    }

    /// `10.0.0.0/8` (IPv4 when the block is inside `::ffff:0.0.0.0/96`), `fd00::/8`, `::1/128`.
    public var description: String {
        if network.isIPv4 && prefixLength >= 96 { return "\(network)/\(prefixLength - 96)" }
        return "\(network)/\(prefixLength)"
    }

    /// `address` with every bit past the first `bits` cleared.
    private static func masked(_ address: IPAddress, to bits: Int) -> IPAddress {
        var bytes = address.bytes
        for index in 0..<16 {
            let kept = min(max(bits - index * 8, 0), 8)
            bytes[index] &= kept == 8 ? 0xff : ~(0xff >> kept)
        }
        return IPAddress(bytes: bytes)!
    }
}
