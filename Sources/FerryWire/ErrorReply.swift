/// A stable, machine-readable error code carried in an `error` frame.
///
/// A struct rather than an enum so that a client keeps working when a newer server sends a code it does
/// not know yet.
public struct ErrorCode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    /// The message was not understood: bad JSON, a missing or mistyped field, an unknown command.
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// A file command before a successful login.
    public static let notAuthenticated = ErrorCode(rawValue: "not_authenticated")
    /// Wrong user name or password, or a failed SCRAM exchange. Deliberately says no more.
    public static let authFailed = ErrorCode(rawValue: "auth_failed")
    /// The path does not exist.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// The path exists but this user may not do that to it, or it leads outside the user's root.
    public static let permissionDenied = ErrorCode(rawValue: "permission_denied")
    /// The path names a directory where a file is needed.
    public static let isDirectory = ErrorCode(rawValue: "is_directory")
    /// The path names something other than a directory where a directory is needed.
    public static let notDirectory = ErrorCode(rawValue: "not_directory")
    /// The path is not acceptable as written: empty, NUL, "..", absolute, too long.
    public static let invalidPath = ErrorCode(rawValue: "invalid_path")
    /// The bytes received do not match the declared size or MD5.
    public static let checksumMismatch = ErrorCode(rawValue: "checksum_mismatch")
    /// The file changed on the server since the manifest the client holds (or while it was hashed):
    /// what the client kept of it cannot be combined with what the server has now.
    public static let fileChanged = ErrorCode(rawValue: "file_changed")
    /// The name is taken already (`mkdir` without `parents` of an existing directory).
    public static let alreadyExists = ErrorCode(rawValue: "already_exists")
    /// A directory that `rmdir` (or a `rename` replacing it) needs empty holds entries.
    public static let notEmpty = ErrorCode(rawValue: "not_empty")
    /// Larger than a frame, a quota, or the free space.
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// The SCRAM-SHA-256-PLUS channel binding differs: client and server are not on the same TLS channel,
    /// so something between them terminates TLS (a possible interception). Nobody was logged in.
    public static let channelBindingMismatch = ErrorCode(rawValue: "channel_binding_mismatch")
    /// The server is at a connection limit.
    public static let busy = ErrorCode(rawValue: "busy")
    /// This address failed to log in too often and is refused for a while.
    public static let banned = ErrorCode(rawValue: "banned")
    /// The peer took too long.
    public static let timeout = ErrorCode(rawValue: "timeout")
    /// The protocol version or a requested feature is not supported.
    public static let unsupported = ErrorCode(rawValue: "unsupported")
    /// Something failed inside the server; the message says what, never a secret.
    public static let `internal` = ErrorCode(rawValue: "internal")
}

/// The `error` message: a code and one human sentence.
public struct ErrorReply: Codable, Equatable, Sendable, Error, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// Longest message kept, in UTF-8 bytes, "…" included: a reply that quotes what a client sent must
    /// still fit a frame, whatever the quoted text is made of.
    public static let maximumMessageLength = 1000

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = Self.cut(message, toBytes: Self.maximumMessageLength)
    }

    /// `text` if it has at most `limit` UTF-8 bytes; else its longest prefix of whole Unicode scalars
    /// that leaves room for "…", followed by "…". Cut by bytes, not Characters: one Character may hold
    /// any number of combining marks.
    public static func cut(_ text: String, toBytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let ellipsis = "…"
        var kept = String.UnicodeScalarView()
        var bytes = ellipsis.utf8.count
        for scalar in text.unicodeScalars {
            bytes += UTF8.width(scalar)
            if bytes > limit { break }
            kept.append(scalar)
        }
        return String(kept) + ellipsis
    }
    public var description: String { message }
}
