import Foundation

/// The UDP status probe (docs/PROTOCOL.md section 11): a padded request carrying a client nonce, and a
/// reply echoing the nonce with a small JSON status. Building and parsing only; no sockets.
///
/// Both datagrams start with the same 14-byte header: the magic `FRYP`, a version byte, a kind byte
/// (request or reply) and the 8-byte nonce. A request is then zero padding up to at least
/// ``minimumRequestLength`` bytes; a reply is then one JSON object, to the end of the datagram.
///
/// The padding is what keeps the probe from amplifying a spoofed flood: whatever the status holds, the
/// reply is smaller than the request it answers (``maximumReplyLength`` < ``minimumRequestLength``).
public enum StatusProbe {
    /// The first four bytes of every probe datagram: "FRYP".
    public static let magic: [UInt8] = Array("FRYP".utf8)
    /// The one version of the datagram format.
    public static let version: UInt8 = 1
    /// The kind byte of a request.
    public static let requestKind: UInt8 = 1
    /// The kind byte of a reply.
    public static let replyKind: UInt8 = 2
    /// Magic, version, kind and nonce.
    public static let headerLength = 14
    /// The shortest request answered: QUIC's minimum Initial datagram, which also fits the smallest
    /// IPv6 path (1280 bytes less 48 of IPv6 and UDP headers) without fragmenting.
    public static let minimumRequestLength = 1200
    /// The longest request answered; a longer datagram is malformed.
    public static let maximumRequestLength = 2048
    /// The longest reply ``reply(nonce:status:)`` builds, every number at its largest included; well
    /// under ``minimumRequestLength``, which is the most a reply may ever be.
    public static let maximumReplyLength = 512

    /// A request with `nonce`, zero-padded to `length` bytes (at least ``minimumRequestLength``).
    public static func request(nonce: UInt64, length: Int = minimumRequestLength) -> [UInt8] {
        var bytes = header(kind: requestKind, nonce: nonce)
        bytes += [UInt8](repeating: 0, count: max(length, minimumRequestLength) - headerLength)
        return bytes
    }

    /// The nonce of a well-formed request, or why it is not one.
    public static func parseRequest<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(StatusProbeError) -> UInt64 {
        guard bytes.count >= minimumRequestLength else { throw .tooShort(bytes.count) }
        guard bytes.count <= maximumRequestLength else { throw .tooLong(bytes.count) }
        let nonce = try parseHeader(bytes, kind: requestKind)
        guard bytes.dropFirst(headerLength).allSatisfy({ $0 == 0 }) else { throw .nonzeroPadding }
        return nonce
    }

    /// The reply to the request with `nonce`. So that it never outgrows ``maximumReplyLength``,
    /// `status.server` keeps only its first ``StatusReport/maximumServerLength`` printable ASCII
    /// characters (no quote or backslash, nothing JSON would escape), and `status.protocols` its first
    /// ``StatusReport/maximumProtocols``.
    public static func reply(nonce: UInt64, status: StatusReport) -> [UInt8] {
        var status = status
        let printable = status.server.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
        status.server = String(String.UnicodeScalarView(printable.prefix(StatusReport.maximumServerLength)))
        status.protocols = Array(status.protocols.prefix(StatusReport.maximumProtocols))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers, a Bool and an array of integers: JSONEncoder cannot fail on them.
        let json = (try? encoder.encode(status)).map(Array.init) ?? Array("{}".utf8)
        return header(kind: replyKind, nonce: nonce) + json
    }

    /// The nonce and status of a well-formed reply, or why it is not one.
    public static func parseReply<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(StatusProbeError) -> (nonce: UInt64, status: StatusReport) {
        guard bytes.count > headerLength else { throw .tooShort(bytes.count) }
        // A reply as long as the shortest request would amplify a spoofed flood: no server sends one.
        guard bytes.count < minimumRequestLength else { throw .tooLong(bytes.count) }
        let nonce = try parseHeader(bytes, kind: replyKind)
        let json = Array(bytes.dropFirst(headerLength))
        guard json.first == UInt8(ascii: "{") else { throw .badStatus("the status must be one JSON object") }
        if let violation = StrictJSON.violation(in: json) { throw .badStatus(violation) }
        do {
            return (nonce, try JSONDecoder().decode(StatusReport.self, from: Data(json)))
        } catch {
            throw .badStatus("\(error)")
        }
    }

    private static func header(kind: UInt8, nonce: UInt64) -> [UInt8] {
        var bytes = magic + [version, kind]
        bytes.reserveCapacity(headerLength)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: nonce >> UInt64(shift))) }
        return bytes
    }

    private static func parseHeader<Bytes: Collection<UInt8>>(_ bytes: Bytes, kind: UInt8) throws(StatusProbeError) -> UInt64 {
        let header = Array(bytes.prefix(headerLength))
        guard header.count == headerLength, header[0..<4].elementsEqual(magic) else { throw .badMagic }
        guard header[4] == version else { throw .unsupportedVersion(header[4]) }
        guard header[5] == kind else { throw .wrongKind(header[5]) }
        return header[6..<14].reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// What a status reply tells: nothing about anyone's names, paths or addresses, only counts.
public struct StatusReport: Codable, Equatable, Sendable {
    /// The server software and version, as in `hello`: "ferryd/0.1.0".
    public var server: String
    /// The protocol versions the TCP port speaks (one today: 2 with TLS, 1 in clear text).
    public var protocols: [Int]
    /// Whole seconds since the server started.
    public var uptime: UInt64
    /// Logged-in sessions.
    public var sessions: UInt64
    /// Transfers in flight (gets, puts, fetches and uploads, manifests included).
    public var transfers: UInt64
    /// Whether a new connection would be admitted to log in now: false while shutting down or at
    /// `max_connections`.
    public var accepting: Bool
    /// Malformed probe datagrams dropped since the start.
    public var malformed: UInt64

    /// The longest `server` a reply carries, in characters (printable ASCII).
    public static let maximumServerLength = 64
    /// The most `protocols` a reply lists.
    public static let maximumProtocols = 4

    public init(server: String, protocols: [Int], uptime: UInt64, sessions: UInt64, transfers: UInt64, accepting: Bool, malformed: UInt64) {
        self.server = server
        self.protocols = protocols
        self.uptime = uptime
        self.sessions = sessions
        self.transfers = transfers
        self.accepting = accepting
        self.malformed = malformed
    }
}

/// Why a datagram is not a status probe request or reply. ferryd drops such a datagram without an answer.
public enum StatusProbeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the kind needs (a request: ``StatusProbe/minimumRequestLength``).
    case tooShort(Int)
    /// More bytes than the kind may have.
    case tooLong(Int)
    /// Not starting with "FRYP".
    case badMagic
    case unsupportedVersion(UInt8)
    /// A reply where a request belongs, or the other way round, or an unknown kind.
    case wrongKind(UInt8)
    /// A request whose padding is not all zero bytes.
    case nonzeroPadding
    /// A reply whose status is not the JSON object of section 11.
    case badStatus(String)

    public var description: String {
        switch self {
        case .tooShort(let count): "datagram of \(count) bytes is too short"
        case .tooLong(let count): "datagram of \(count) bytes is too long"
        case .badMagic: "not a Ferry status probe (no FRYP magic)"
        case .unsupportedVersion(let version): "status probe version \(version) is not supported"
        case .wrongKind(let kind): "unexpected status probe kind \(kind)"
        case .nonzeroPadding: "request padding is not all zero bytes"
        case .badStatus(let why): "malformed status: \(why)"
        }
    }
}
