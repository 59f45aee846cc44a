/// Why a SCRAM-SHA-256 exchange failed. Descriptions are safe to log: they never contain secrets.
public enum ScramError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message did not follow the RFC 5802 grammar; the payload says what was wrong.
    case malformedMessage(String)
    /// The client asked for a channel binding this end does not offer (any "p=" but tls-exporter, or
    /// tls-exporter without TLS).
    case unsupportedChannelBinding
    /// Server side: the client's channel binding data differ from this end's: the two ends are not on
    /// the same TLS channel (a possible interception).
    case channelBindingMismatch
    /// The nonce did not extend (client) or equal (server) the expected one.
    case nonceMismatch
    /// Server side: the client proof was wrong (wrong password or unknown user).
    case invalidProof
    /// Client side: the server could not prove that it knows the password.
    case invalidServerSignature
    /// Client side: the server offered fewer than `ScramCredentials.minimumIterations`.
    case iterationCountTooLow(Int)
    /// The server ended the exchange with "e=<value>".
    case serverError(String)

    /// A one-line, log-safe explanation.
    public var description: String {
        switch self {
        case .malformedMessage(let what): return "malformed SCRAM message: \(what)"
        case .unsupportedChannelBinding: return "SCRAM channel binding is not supported"
        case .channelBindingMismatch: return "SCRAM channel binding does not match: the peer is on another TLS channel"
        case .nonceMismatch: return "SCRAM nonce mismatch"
        case .invalidProof: return "SCRAM authentication failed: invalid client proof"
        case .invalidServerSignature: return "SCRAM server signature is invalid"
        case .iterationCountTooLow(let count):
            return "SCRAM iteration count \(count) is below the minimum of \(ScramCredentials.minimumIterations)"
        case .serverError(let value): return "SCRAM server error: \(value)"
        }
    }
}
