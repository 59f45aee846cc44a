/// Client side of RFC 5802 / RFC 7677 SCRAM-SHA-256: without channel binding (gs2 header "n,,"), or
/// SCRAM-SHA-256-PLUS bound to a TLS channel by RFC 9266's `tls-exporter` (gs2 header "p=tls-exporter,,").
///
/// User name and password are used as UTF-8 without SASLprep.
public struct ScramClient: Sendable {
    private let username: String
    private let password: String
    private let clientNonce: String
    /// This end's `tls-exporter` bytes for -PLUS, nil for plain SCRAM-SHA-256.
    private let channelBindingData: [UInt8]?
    /// Set by `clientFinalMessage(serverFirst:)`: the signature the server must send back.
    private var expectedServerSignature: [UInt8]?

    /// Prepares an exchange; `nonce` must be printable ASCII without ',' (the default is random).
    /// With `channelBindingData` (the connection's `tls-exporter` bytes) the exchange is -PLUS.
    public init(username: String, password: String, nonce: String = SecureRandom.nonce(), channelBindingData: [UInt8]? = nil) {
        precondition(ScramSyntax.isValidNonce(nonce), "SCRAM nonce must be printable ASCII without ','")
        self.username = username
        self.password = password
        self.clientNonce = nonce
        self.channelBindingData = channelBindingData
    }

    /// "n,," without channel binding, "p=tls-exporter,," with it.
    private var gs2Header: String {
        channelBindingData == nil ? "n,," : "p=\(ScramChannelBinding.tlsExporterName),,"
    }

    /// "n=<saslname>,r=<nonce>".
    private var clientFirstBare: String {
        "n=\(ScramSyntax.escape(username)),r=\(clientNonce)"
    }

    /// The first message: "n,,n=<saslname>,r=<nonce>" (or with the -PLUS gs2 header).
    public var clientFirstMessage: String {
        gs2Header + clientFirstBare
    }

    /// Parses the server-first message "r=..,s=..,i=.." and returns "c=biws,r=..,p=..".
    ///
    /// Throws `.nonceMismatch` unless the server nonce strictly extends ours, and
    /// `.iterationCountTooLow` for fewer than `ScramCredentials.minimumIterations`.
    public mutating func clientFinalMessage(serverFirst: String) throws(ScramError) -> String {
        expectedServerSignature = nil
        let fields = ScramSyntax.fields(serverFirst)
        if fields[0].hasPrefix("m=") {
            throw .malformedMessage("server-first: unsupported mandatory extension")
        }
        guard fields.count >= 3 else { throw .malformedMessage("server-first: missing fields") }
        guard let nonce = ScramSyntax.value(of: fields[0], named: "r") else {
            throw .malformedMessage("server-first: expected r= nonce")
        }
        guard ScramSyntax.isValidNonce(nonce) else {
            throw .malformedMessage("server-first: nonce is not printable")
        }
        guard nonce.utf8.starts(with: clientNonce.utf8), nonce.utf8.count > clientNonce.utf8.count else {
            throw .nonceMismatch
        }
        guard let saltText = ScramSyntax.value(of: fields[1], named: "s"),
              let salt = Base64.decode(saltText), !salt.isEmpty
        else { throw .malformedMessage("server-first: expected s= base64 salt") }
        guard let countText = ScramSyntax.value(of: fields[2], named: "i"),
              !countText.isEmpty, countText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let iterations = Int(countText), iterations <= Int(Int32.max)
        else { throw .malformedMessage("server-first: expected i= iteration count") }
        guard iterations >= ScramCredentials.minimumIterations else {
            throw .iterationCountTooLow(iterations)
        }
        guard fields.dropFirst(3).allSatisfy(ScramSyntax.isAttribute) else {
            throw .malformedMessage("server-first: malformed extension")
        }

        let keys = ScramKeys(password: password, salt: salt, iterations: iterations)
        let storedKey = Digest.hash(.sha256, keys.clientKey)
        let binding = Array(gs2Header.utf8) + (channelBindingData ?? [])
        let withoutProof = "c=\(Base64.encode(binding)),r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = HMAC.sha256(key: storedKey, message: authMessage)
        let proof = ScramSyntax.xor(keys.clientKey, clientSignature)
        expectedServerSignature = HMAC.sha256(key: keys.serverKey, message: authMessage)
        return "\(withoutProof),p=\(Base64.encode(proof))"
    }

    /// Checks the server-final message: "v=<base64 ServerSignature>" is compared in
    /// constant time; "e=<error>" throws `.serverError`.
    public func verify(serverFinal: String) throws(ScramError) {
        let fields = ScramSyntax.fields(serverFinal)
        if let error = ScramSyntax.value(of: fields[0], named: "e") {
            throw .serverError(String(error))
        }
        guard let expected = expectedServerSignature else {
            throw .malformedMessage("server-final: received before the client-final message was built")
        }
        guard let verifier = ScramSyntax.value(of: fields[0], named: "v") else {
            throw .malformedMessage("server-final: expected v= or e=")
        }
        guard let signature = Base64.decode(verifier) else {
            throw .malformedMessage("server-final: signature is not base64")
        }
        guard constantTimeEquals(signature, expected) else { throw .invalidServerSignature }
    }
}
