/// Server side, step 1: the parsed client-first message; the caller then looks the user up.
public struct ScramClientFirst: Sendable, Equatable {
    /// The user name, with saslname escapes ("=2C", "=3D") decoded. No SASLprep is applied.
    public let username: String
    /// The client's nonce.
    public let clientNonce: String
    /// The client-first-message-bare ("n=...,r=..."), needed for the AuthMessage.
    public let bare: String
    /// The gs2 header the client sent ("n,,", "y,," or "p=tls-exporter,,"); the client-final "c=" must
    /// echo it (followed by the channel binding data for "p=").
    let gs2Header: String
    /// What the client said about channel binding.
    public let channelBinding: ScramChannelBinding

    /// Longest user name accepted, in bytes after unescaping; the server echoes nothing of it, but a
    /// name that long can belong to nobody.
    public static let maximumUsernameBytes = 255
    /// Longest client nonce accepted, in bytes: the server echoes it in its server-first message.
    public static let maximumNonceBytes = 255

    /// Parses "n,,n=<saslname>,r=<nonce>[,extensions]".
    ///
    /// "p=tls-exporter" asks for RFC 9266 channel binding; any other "p=" throws
    /// `.unsupportedChannelBinding`. Whether a flag is acceptable on this connection is the server's
    /// policy, not the parser's. An authzid, an "m=" extension, an empty user name,
    /// an empty or non-printable nonce, a bad '=' escape, or a user name or nonce over 255 bytes throws
    /// `.malformedMessage`.
    public static func parse(_ message: String) throws(ScramError) -> ScramClientFirst {
        let fields = ScramSyntax.fields(message)
        let flag = fields[0]
        let binding: ScramChannelBinding
        switch flag {
        case "n": binding = .none
        case "y": binding = .supportedButNotUsed
        case "p=" + ScramChannelBinding.tlsExporterName: binding = .tlsExporter
        case _ where flag.hasPrefix("p="): throw .unsupportedChannelBinding
        default: throw .malformedMessage("client-first: expected gs2 channel binding flag 'n', 'y' or 'p='")
        }
        guard fields.count >= 4 else { throw .malformedMessage("client-first: missing fields") }
        guard fields[1].isEmpty else {
            throw .malformedMessage("client-first: authorization identity is not supported")
        }
        if fields[2].hasPrefix("m=") {
            throw .malformedMessage("client-first: unsupported mandatory extension")
        }
        guard let rawName = ScramSyntax.value(of: fields[2], named: "n") else {
            throw .malformedMessage("client-first: expected n= user name")
        }
        guard let name = ScramSyntax.unescape(rawName) else {
            throw .malformedMessage("client-first: invalid '=' escape in user name")
        }
        guard !name.isEmpty else { throw .malformedMessage("client-first: empty user name") }
        guard name.utf8.count <= maximumUsernameBytes else {
            throw .malformedMessage("client-first: user name longer than \(maximumUsernameBytes) bytes")
        }
        guard let nonce = ScramSyntax.value(of: fields[3], named: "r") else {
            throw .malformedMessage("client-first: expected r= nonce")
        }
        guard nonce.utf8.count <= maximumNonceBytes else {
            throw .malformedMessage("client-first: nonce longer than \(maximumNonceBytes) bytes")
        }
        guard ScramSyntax.isValidNonce(nonce) else {
            throw .malformedMessage("client-first: nonce is empty or not printable")
        }
        guard fields.dropFirst(4).allSatisfy(ScramSyntax.isAttribute) else {
            throw .malformedMessage("client-first: malformed extension")
        }
        return ScramClientFirst(
            username: name,
            clientNonce: String(nonce),
            bare: fields[2...].joined(separator: ","),
            gs2Header: "\(flag),,",
            channelBinding: binding)
    }
}

/// The gs2 channel-binding flag of a SCRAM client-first message (RFC 5802 section 7).
public enum ScramChannelBinding: Sendable, Equatable {
    /// "n": the client does not support channel binding.
    case none
    /// "y": the client supports it but believes the server does not; a server that offers -PLUS must
    /// refuse this, since it means someone removed the offer (a downgrade).
    case supportedButNotUsed
    /// "p=tls-exporter": bound to the TLS channel by RFC 9266's exporter.
    case tlsExporter

    /// The channel binding type name of RFC 9266.
    public static let tlsExporterName = "tls-exporter"
}
