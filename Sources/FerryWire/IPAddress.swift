/// An IPv4 or IPv6 address: its bytes, read from and written as text in pure Swift (no inet_pton).
///
/// An IPv4 address is kept as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so that 192.0.2.7 and
/// `::ffff:192.0.2.7` are one address, compare equal and print the same (`192.0.2.7`): one client is
/// one address for bans and connection counts, whichever family it arrived in.
///
/// The text form follows RFC 5952, as glibc's inet_ntop writes it: lowercase hex, no leading zeros,
/// the longest run of two or more zero groups (the first of equal runs) written `::`.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 16 bytes in network order; an IPv4 address as `::ffff:a.b.c.d`.
    public let bytes: [UInt8]

    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]

    /// The address in `bytes`: 4 for IPv4, 16 for IPv6 (an IPv4-mapped one is IPv4); nil for any
    /// other count.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4: self.bytes = Self.mappedPrefix + bytes
        case 16: self.bytes = Array(bytes)
        default: return nil
        }
    }

    /// Parses `192.0.2.7` or an IPv6 address (`2001:db8::1`, `::ffff:192.0.2.7`); nil for anything
    /// else, host names and zone indices (`fe80::1%eth0`) included. IPv4 parts are decimal, 0 to 255,
    /// without leading zeros (which some parsers read as octal).
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        if let v4 = Self.parseIPv4(utf8[...]) {
            self.init(bytes: v4)
        } else if let v6 = Self.parseIPv6(utf8) {
            self.init(bytes: v6)
        } else {
            return nil
        }
    }

    /// True for an IPv4 address (one of `::ffff:0.0.0.0/96`).
    public var isIPv4: Bool { bytes.starts(with: Self.mappedPrefix) }

    /// `192.0.2.7` for IPv4, else the RFC 5952 form such as `2001:db8::1`.
    public var description: String {
        if isIPv4 { return bytes[12...].map(String.init).joined(separator: ".") }
        let groups = (0..<8).map { Int(bytes[2 * $0]) << 8 | Int(bytes[2 * $0 + 1]) }
        // The longest run of at least two zero groups, the first one of equal length.
        var best: (start: Int, length: Int) = (0, 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard best.length >= 2 else { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex(best.start + best.length..<8)
    }

    // MARK: parsing

    /// Four decimal parts 0-255 separated by dots, no leading zeros.
    private static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  part.count == 1 || part.first != UInt8(ascii: "0") else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 255 else { return nil }
            result.append(UInt8(value))
        }
        return result
    }

    /// Up to eight groups of 1-4 hex digits, at most one `::`, optionally ending in an IPv4 address
    /// that stands for the last two groups.
    private static func parseIPv6(_ text: [UInt8]) -> [UInt8]? {
        guard text.count >= 2, text.count <= 45 else { return nil }
        let colon = UInt8(ascii: ":")
        let gap = text.indices.dropLast().first { text[$0] == colon && text[$0 + 1] == colon }
        let head = gap.map { text[..<$0] } ?? text[...]
        let tail = gap.map { text[($0 + 2)...] } ?? []
        guard let headBytes = groups(head, mayEndInIPv4: gap == nil),
              let tailBytes = groups(tail, mayEndInIPv4: true) else { return nil }
        let count = headBytes.count + tailBytes.count
        guard gap != nil else { return count == 16 ? headBytes : nil }
        guard count <= 14 else { return nil }
        return headBytes + [UInt8](repeating: 0, count: 16 - count) + tailBytes
    }

    /// The bytes of `text`, groups of 1-4 hex digits separated by single colons (empty text: none),
    /// the last one possibly an IPv4 address (two groups' worth).
    private static func groups(_ text: ArraySlice<UInt8>, mayEndInIPv4: Bool) -> [UInt8]? {
        guard !text.isEmpty else { return [] }
        let pieces = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var bytes: [UInt8] = []
        for (index, piece) in pieces.enumerated() {
            if mayEndInIPv4, index == pieces.count - 1, piece.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(piece) else { return nil }
                bytes += v4
                continue
            }
            guard (1...4).contains(piece.count), piece.allSatisfy(isHexDigit),
                  let value = UInt16(String(decoding: piece, as: UTF8.self), radix: 16) else { return nil }
            bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
        }
        return bytes
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
