/// The binary header (version 2) of the PROXY protocol, which a load balancer such as HAProxy
/// (`send-proxy-v2`) puts in front of a connection it relays, in clear, to say whose it is
/// (haproxy's doc/proxy-protocol.txt, section 2.2).
///
/// ferryd reads it only from `trusted_proxies`, before anything else, the TLS handshake included
/// (docs/PROTOCOL.md, section 1.2). It takes the commands LOCAL (the proxy's own connection, a health
/// check) and PROXY over TCP, IPv4 or IPv6; it refuses PROXY for UNIX sockets, UDP or an unspecified
/// family, since a client address is the point. TLVs after the addresses are skipped, but must be
/// well formed, and the whole header is at most ``maximumLength`` bytes.
public enum ProxyHeader: Equatable, Sendable {
    /// The proxy's own connection: the peer is the proxy itself.
    case local
    /// A relayed TCP connection from `source` (the client) to `destination` (the proxy's listener).
    case proxied(source: Endpoint, destination: Endpoint)

    /// An address and a TCP port.
    public struct Endpoint: Equatable, Sendable, CustomStringConvertible {
        public let address: IPAddress
        public let port: Int

        public init(address: IPAddress, port: Int) {
            self.address = address
            self.port = port
        }

        /// `192.0.2.7:5000`, or `[2001:db8::7]:5000`: as the peers of direct connections are written.
        public var description: String { address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
    }

    /// What ``parse(_:)`` made of the bytes received so far.
    public enum Parsed: Equatable, Sendable {
        /// A header could still follow: at least this many more bytes are needed (no byte beyond the
        /// header is ever asked for, so a reader may read exactly this many).
        case needMore(Int)
        /// A whole header, the first `length` bytes; what follows them is the relayed stream.
        case header(ProxyHeader, length: Int)
        /// Not a header ferryd accepts, for one line of a log.
        case invalid(String)
    }

    /// The 12 bytes every version 2 header starts with.
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The fixed part: signature, version and command, family and transport, length.
    public static let fixedLength = 16
    /// Address block and TLVs at most: the largest address (UNIX, 216 bytes) and room for TLVs such as
    /// AWS's or HAProxy's SSL ones. A trusted proxy sends far less.
    public static let maximumBlockLength = 2048
    /// The longest header accepted.
    public static let maximumLength = fixedLength + maximumBlockLength

    /// Reads a header from the start of `bytes` (which may hold more after it).
    public static func parse(_ bytes: some Collection<UInt8>) -> Parsed {
        let bytes = Array(bytes)
        let seen = min(bytes.count, signature.count)
        guard bytes.prefix(seen).elementsEqual(signature.prefix(seen)) else {
            return .invalid(notASignature(bytes))
        }
        guard bytes.count >= fixedLength else { return .needMore(fixedLength - bytes.count) }
        let version = bytes[12] >> 4, command = bytes[12] & 0x0F
        guard version == 2 else { return .invalid("a PROXY header of version \(version), not 2") }
        let blockLength = Int(bytes[14]) << 8 | Int(bytes[15])
        guard blockLength <= maximumBlockLength else {
            return .invalid("a PROXY header of \(fixedLength + blockLength) bytes, over the limit of \(maximumLength)")
        }
        let length = fixedLength + blockLength
        guard bytes.count >= length else { return .needMore(length - bytes.count) }
        let block = bytes[fixedLength..<length]
        switch command {
        case 0:
            // LOCAL: family, transport and addresses are ignored, as the specification says.
            return .header(.local, length: length)
        case 1:
            let family = bytes[13] >> 4, transport = bytes[13] & 0x0F
            guard let header = proxied(family: family, transport: transport, block: block) else {
                return .invalid(refusal(family: family, transport: transport, blockLength: blockLength))
            }
            return .header(header, length: length)
        default:
            return .invalid("an unknown PROXY command (\(command))")
        }
    }

    /// The bytes of this header, followed by `tlvs` (already encoded; they count in the length).
    public func encoded(tlvs: [UInt8] = []) -> [UInt8] {
        var block: [UInt8]
        let familyAndTransport: UInt8
        switch self {
        case .local:
            (block, familyAndTransport) = ([], 0x00)
        case .proxied(let source, let destination):
            let v4 = source.address.isIPv4 && destination.address.isIPv4
            let addresses = [source, destination].flatMap { v4 ? Array($0.address.bytes[12...]) : $0.address.bytes }
            let ports = [source, destination].flatMap { [UInt8($0.port >> 8 & 0xff), UInt8($0.port & 0xff)] }
            (block, familyAndTransport) = (addresses + ports, v4 ? 0x11 : 0x21)
        }
        block += tlvs
        let command: UInt8 = self == .local ? 0x20 : 0x21
        return Self.signature + [command, familyAndTransport, UInt8(block.count >> 8), UInt8(block.count & 0xff)] + block
    }

    /// True when `bytes`, the first a peer sent, look like a PROXY header of either version: the start
    /// of the version 2 signature, or version 1's `PROXY ` (at least 5 bytes are needed).
    public static func looksLikeHeader(_ bytes: some Collection<UInt8>) -> Bool {
        let head = Array(bytes.prefix(signature.count))
        guard head.count >= 5 else { return false }
        return signature.starts(with: head) || Array("PROXY ".utf8).starts(with: head.prefix(6))
    }

    /// True when a frame length prefix (the first 4 bytes of a stream read as protocol 1's big-endian
    /// length) is the start of a PROXY header of either version.
    public static func startsHeader(frameLength: Int) -> Bool {
        frameLength == 0x0D0A_0D0A || frameLength == 0x5052_4F58  // "\r\n\r\n", "PROX"
    }

    // MARK: details

    /// The source and destination of a PROXY over TCP; nil for any other family or transport, or a
    /// block too short or with malformed TLVs.
    private static func proxied(family: UInt8, transport: UInt8, block: ArraySlice<UInt8>) -> ProxyHeader? {
        guard transport == 1 else { return nil }
        let size: Int
        switch family {
        case 1: size = 4
        case 2: size = 16
        default: return nil
        }
        let addressLength = 2 * size + 4
        guard block.count >= addressLength, tlvsAreWellFormed(block.dropFirst(addressLength)) else { return nil }
        let start = block.startIndex
        func port(at offset: Int) -> Int { Int(block[start + offset]) << 8 | Int(block[start + offset + 1]) }
        guard let source = IPAddress(bytes: block[start..<start + size]),
              let destination = IPAddress(bytes: block[start + size..<start + 2 * size]) else { return nil }
        return .proxied(source: Endpoint(address: source, port: port(at: 2 * size)),
                        destination: Endpoint(address: destination, port: port(at: 2 * size + 2)))
    }

    /// Why a PROXY command was refused: the family, the transport, or the length of its block.
    private static func refusal(family: UInt8, transport: UInt8, blockLength: Int) -> String {
        switch family {
        case 0: return "a PROXY command with an unspecified address family (no client address)"
        case 3: return "a PROXY header for a UNIX socket (no client address)"
        case 1, 2:
            guard transport == 1 else {
                return transport == 2 ? "a PROXY header for UDP; ferryd serves TCP" : "a PROXY header with an unspecified or unknown transport (\(transport))"
            }
            let needed = family == 1 ? 12 : 36
            if blockLength < needed { return "a PROXY header whose \(blockLength)-byte address block is shorter than \(needed) bytes" }
            return "a PROXY header whose TLVs after the addresses are malformed"
        default: return "a PROXY header with unknown address family \(family)"
        }
    }

    /// True when `tlvs` is a sequence of type (1 byte), length (2 bytes) and that many bytes of value,
    /// ending exactly at the end of the block.
    private static func tlvsAreWellFormed(_ tlvs: ArraySlice<UInt8>) -> Bool {
        var index = tlvs.startIndex
        while index < tlvs.endIndex {
            guard tlvs.endIndex - index >= 3 else { return false }
            let length = Int(tlvs[index + 1]) << 8 | Int(tlvs[index + 2])
            index += 3 + length
        }
        return index == tlvs.endIndex
    }

    /// The reason for bytes that do not start with the signature: what they look like instead.
    private static func notASignature(_ bytes: [UInt8]) -> String {
        if bytes.starts(with: Array("PROXY".utf8).prefix(bytes.count)) {
            return "a PROXY protocol version 1 (text) header; ferryd reads only version 2 (HAProxy: send-proxy-v2)"
        }
        if bytes.first == 0x16 { return "no PROXY header: the connection starts with a TLS handshake" }
        if bytes.first == 0x00 { return "no PROXY header: the connection starts with a Ferry frame" }
        return "no PROXY header: the connection does not start with the PROXY protocol v2 signature"
    }
}
