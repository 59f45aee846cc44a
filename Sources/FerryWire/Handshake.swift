/// The server's first frame: protocol version and how to authenticate.
public struct Hello: Codable, Equatable, Sendable {
    /// The protocol version this server speaks; see docs/PROTOCOL.md.
    public var protocolVersion: Int
    /// Name and version of the server software, for logs.
    public var server: String
    /// Authentication mechanisms offered, best first. Version 1 offers "SCRAM-SHA-256"; version 2 (TLS)
    /// offers "SCRAM-SHA-256-PLUS" only.
    public var auth: [String]
    /// The chunk size the server streams bodies in; informative.
    public var chunkSize: Int
    /// Optional features this server offers on top of its protocol version (absent: none). A client
    /// uses a feature only when it is listed here, and ignores names it does not know.
    public var features: [String]?

    public init(protocolVersion: Int = Hello.tlsVersion, server: String, auth: [String], chunkSize: Int, features: [String]? = nil) {
        self.protocolVersion = protocolVersion
        self.server = server
        self.auth = auth
        self.chunkSize = chunkSize
        self.features = features
    }

    /// Whether the server offers `feature`.
    public func offers(_ feature: String) -> Bool { features?.contains(feature) ?? false }

    /// The feature of chunk-verified, resumable transfers: `fetch`, `upload` and their messages
    /// (docs/PROTOCOL.md section 6.6).
    public static let chunksFeature = "chunks"
    /// The feature of the `mkdir` command.
    public static let mkdirFeature = "mkdir"
    /// The feature of file management: the commands `rmdir`, `rm`, `rename` and `df`, and the `mtime`
    /// an `upload` or `put` may carry for the stored file (docs/PROTOCOL.md 6.8 to 6.11).
    public static let manageFeature = "manage"

    /// Protocol 2: TLS 1.3 from the first byte, then the frames of protocol 1 inside it.
    public static let tlsVersion = 2
    /// Protocol 1: the frames in clear text, for loopback and trusted links (`[tls] enabled = false`).
    public static let clearTextVersion = 1
    /// The one mechanism of version 1.
    public static let scramSHA256 = "SCRAM-SHA-256"
    /// The one mechanism of version 2: SCRAM-SHA-256 bound to the TLS channel (RFC 9266 tls-exporter).
    public static let scramSHA256Plus = "SCRAM-SHA-256-PLUS"

    /// The protocol version spoken over TLS or in clear text.
    public static func version(overTLS: Bool) -> Int { overTLS ? tlsVersion : clearTextVersion }

    /// The one mechanism offered and used over TLS or in clear text.
    public static func mechanism(overTLS: Bool) -> String { overTLS ? scramSHA256Plus : scramSHA256 }

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol", server, auth, chunkSize = "chunk_size", features
    }
}

/// Client → server: the SCRAM client-first-message.
public struct AuthStart: Codable, Equatable, Sendable {
    public var mechanism: String
    public var message: String
    public init(mechanism: String, message: String) {
        self.mechanism = mechanism
        self.message = message
    }
}

/// Server → client: the SCRAM server-first-message (or the client-final for AuthFinish): one SCRAM text.
public struct AuthMessage: Codable, Equatable, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
}

/// Server → client: login succeeded; carries the SCRAM server-final-message for the client to verify.
public struct AuthOK: Codable, Equatable, Sendable {
    public var message: String
    public var user: String
    public var readOnly: Bool
    public init(message: String, user: String, readOnly: Bool) {
        self.message = message
        self.user = user
        self.readOnly = readOnly
    }
    enum CodingKeys: String, CodingKey { case message, user, readOnly = "read_only" }
}
