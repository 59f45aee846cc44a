/// Server side of SCRAM-SHA-256, step 2 onwards, for one parsed client-first message.
public struct ScramServer: Sendable {
    private let clientFirst: ScramClientFirst
    private let credentials: ScramCredentials
    private let serverNonce: String

    /// credentials: the user's stored credentials, or for an unknown user fake ones
    /// (see `fakeCredentials(for:secret:)`) so the exchange looks identical.
    /// `serverNonce` must be printable ASCII without ',' (the default is random).
    public init(clientFirst: ScramClientFirst, credentials: ScramCredentials, serverNonce: String = SecureRandom.nonce()) {
        precondition(ScramSyntax.isValidNonce(serverNonce), "SCRAM nonce must be printable ASCII without ','")
        self.clientFirst = clientFirst
        self.credentials = credentials
        self.serverNonce = serverNonce
    }

    /// The combined nonce: client nonce followed by server nonce.
    private var fullNonce: String {
        clientFirst.clientNonce + serverNonce
    }

    /// "r=<clientNonce+serverNonce>,s=<base64 salt>,i=<iterations>".
    public var serverFirstMessage: String {
        "r=\(fullNonce),s=\(Base64.encode(credentials.salt)),i=\(credentials.iterations)"
    }

    /// Verifies "c=biws,r=<full nonce>,p=<base64 proof>" (c must decode to the gs2 header of
    /// the client-first message, "n,," or "y,,"), returns server-final "v=<base64 ServerSignature>".
    public func serverFinalMessage(clientFinal: String) throws(ScramError) -> String {
        let fields = ScramSyntax.fields(clientFinal)
        guard fields.count >= 3 else { throw .malformedMessage("client-final: missing fields") }
        guard let bindingText = ScramSyntax.value(of: fields[0], named: "c") else {
            throw .malformedMessage("client-final: expected c= channel binding")
        }
        guard let binding = Base64.decode(bindingText) else {
            throw .malformedMessage("client-final: channel binding is not base64")
        }
        if binding.starts(with: Array("p=".utf8)) { throw .unsupportedChannelBinding }
        guard binding == Array(clientFirst.gs2Header.utf8) else {
            throw .malformedMessage("client-final: channel binding does not match the client-first header")
        }
        guard let nonce = ScramSyntax.value(of: fields[1], named: "r") else {
            throw .malformedMessage("client-final: expected r= nonce")
        }
        guard nonce.utf8.elementsEqual(fullNonce.utf8) else { throw .nonceMismatch }
        guard let proofText = ScramSyntax.value(of: fields[fields.count - 1], named: "p") else {
            throw .malformedMessage("client-final: expected p= proof as the last attribute")
        }
        guard fields.dropFirst(2).dropLast().allSatisfy(ScramSyntax.isAttribute) else {
            throw .malformedMessage("client-final: malformed extension")
        }
        guard let proof = Base64.decode(proofText) else {
            throw .malformedMessage("client-final: proof is not base64")
        }

        let withoutProof = fields.dropLast().joined(separator: ",")
        let authMessage = Array("\(clientFirst.bare),\(serverFirstMessage),\(withoutProof)".utf8)
        let clientSignature = HMAC.sha256(key: credentials.storedKey, message: authMessage)
        guard proof.count == clientSignature.count else { throw .invalidProof }
        let clientKey = ScramSyntax.xor(proof, clientSignature)
        guard constantTimeEquals(Digest.hash(.sha256, clientKey), credentials.storedKey) else {
            throw .invalidProof
        }
        let serverSignature = HMAC.sha256(key: credentials.serverKey, message: authMessage)
        return "v=" + Base64.encode(serverSignature)
    }
}
