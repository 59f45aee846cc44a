/// Server side of SCRAM-SHA-256, step 2 onwards, for one parsed client-first message.
public struct ScramServer: Sendable {
    private let clientFirst: ScramClientFirst
    private let credentials: ScramCredentials
    private let serverNonce: String
    private let channelBindingData: [UInt8]?

    /// credentials: the user's stored credentials, or for an unknown user fake ones
    /// (see `fakeCredentials(for:secret:)`) so the exchange looks identical.
    /// `serverNonce` must be printable ASCII without ',' (the default is random).
    /// `channelBindingData`: this end's `tls-exporter` bytes on a TLS connection, nil without TLS.
    public init(clientFirst: ScramClientFirst, credentials: ScramCredentials, serverNonce: String = SecureRandom.nonce(),
                channelBindingData: [UInt8]? = nil) {
        precondition(ScramSyntax.isValidNonce(serverNonce), "SCRAM nonce must be printable ASCII without ','")
        self.clientFirst = clientFirst
        self.credentials = credentials
        self.serverNonce = serverNonce
        self.channelBindingData = channelBindingData
    }

    /// The combined nonce: client nonce followed by server nonce.
    private var fullNonce: String {
        clientFirst.clientNonce + serverNonce
    }

    /// "r=<clientNonce+serverNonce>,s=<base64 salt>,i=<iterations>".
    public var serverFirstMessage: String {
        "r=\(fullNonce),s=\(Base64.encode(credentials.salt)),i=\(credentials.iterations)"
    }

    /// Verifies "c=<base64 binding>,r=<full nonce>,p=<base64 proof>" and returns server-final
    /// "v=<base64 ServerSignature>". The binding must be the client-first's gs2 header, followed for
    /// "p=tls-exporter" by this end's channel binding data; a difference there throws
    /// `.channelBindingMismatch` before the proof is looked at.
    public func serverFinalMessage(clientFinal: String) throws(ScramError) -> String {
        let fields = ScramSyntax.fields(clientFinal)
        guard fields.count >= 3 else { throw .malformedMessage("client-final: missing fields") }
        guard let bindingText = ScramSyntax.value(of: fields[0], named: "c") else {
            throw .malformedMessage("client-final: expected c= channel binding")
        }
        guard let binding = Base64.decode(bindingText) else {
            throw .malformedMessage("client-final: channel binding is not base64")
        }
        guard binding.starts(with: Array(clientFirst.gs2Header.utf8)) else {
            throw .malformedMessage("client-final: channel binding does not match the client-first header")
        }
        if clientFirst.channelBinding == .tlsExporter {
            guard let channelBindingData else { throw .unsupportedChannelBinding }
            guard constantTimeEquals(binding, Array(clientFirst.gs2Header.utf8) + channelBindingData) else {
                throw .channelBindingMismatch
            }
        } else if binding.count != clientFirst.gs2Header.utf8.count {
            throw .malformedMessage("client-final: channel binding data without channel binding")
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
