import FerryCrypto
import Testing

@Test("wrong password is rejected by the server with .invalidProof")
func wrongPassword() throws {
    var client = ScramClient(username: RFC7677.user, password: "pencil!", nonce: RFC7677.clientNonce)
    let server = try RFC7677.server()
    let final = try client.clientFinalMessage(serverFirst: server.serverFirstMessage)
    #expect(final != RFC7677.clientFinal)
    #expect(throws: ScramError.invalidProof) { try server.serverFinalMessage(clientFinal: final) }
}

@Test("a tampered proof is rejected with .invalidProof")
func tamperedProof() throws {
    let server = try RFC7677.server()
    let tampered = RFC7677.clientFinal.replacingLast("p=dHzb", with: "p=eHzb")
    #expect(tampered != RFC7677.clientFinal)
    #expect(throws: ScramError.invalidProof) { try server.serverFinalMessage(clientFinal: tampered) }
    let short = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA"
    #expect(throws: ScramError.invalidProof) { try server.serverFinalMessage(clientFinal: short) }
}

@Test("a tampered server signature is rejected with .invalidServerSignature")
func tamperedServerSignature() throws {
    var client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
    _ = try client.clientFinalMessage(serverFirst: RFC7677.serverFirst)
    let tampered = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    #expect(throws: ScramError.invalidServerSignature) { try client.verify(serverFinal: tampered) }
    #expect(throws: ScramError.invalidServerSignature) { try client.verify(serverFinal: "v=AAAA") }
    #expect(throws: ScramError.invalidServerSignature) { try client.verify(serverFinal: "v=") }
}

@Test("server error in the server-final message")
func serverErrorFinal() throws {
    var client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
    _ = try client.clientFinalMessage(serverFirst: RFC7677.serverFirst)
    #expect(throws: ScramError.serverError("invalid-proof")) { try client.verify(serverFinal: "e=invalid-proof") }
}

@Test("verify before clientFinalMessage fails instead of accepting")
func verifyTooEarly() {
    let client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
    #expect(throws: ScramError.self) { try client.verify(serverFinal: RFC7677.serverFinal) }
}

@Test("client rejects a server nonce that does not extend its own", arguments: [
    "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "r=rOprNGfwEbe,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
])
func clientNonceMismatch(serverFirst: String) {
    var client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
    #expect(throws: ScramError.nonceMismatch) { try client.clientFinalMessage(serverFirst: serverFirst) }
}

@Test("server rejects a client-final whose nonce differs")
func serverNonceMismatch() throws {
    let server = try RFC7677.server()
    let final = RFC7677.clientFinal.replacingOccurrences("$k0,p=", with: "$k1,p=")
    #expect(final != RFC7677.clientFinal)
    #expect(throws: ScramError.nonceMismatch) { try server.serverFinalMessage(clientFinal: final) }
}

@Test("client refuses fewer than 4096 iterations")
func iterationCountTooLow() {
    var client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
    let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000"
    #expect(throws: ScramError.iterationCountTooLow(1000)) { try client.clientFinalMessage(serverFirst: serverFirst) }
}

@Test("malformed client-first messages throw .malformedMessage", arguments: [
    "", "garbage", ",,,", "n,,", "n,,n=user", "n,,r=abc,n=user", "n,,n=,r=abc", "n,,n=user,r=",
    "n,,n=us=er,r=abc", "n,,n=us=2Xer,r=abc", "n,,n=user=3,r=abc", "n,,n=us,er,r=abc",
    "n,a=admin,n=user,r=abc", "m=ext,n=user,r=abc", "n,,m=ext,n=user,r=abc", "x,,n=user,r=abc",
    "n,,n=user,r=ab c", "n,,n=user,r=abc,,", "N,,n=user,r=abc",
])
func malformedClientFirst(message: String) {
    #expect {
        try ScramClientFirst.parse(message)
    } throws: { error in
        if case .malformedMessage = error as? ScramError { return true }
        return false
    }
}

@Test("channel binding requested by the client is refused")
func channelBindingRefused() {
    #expect(throws: ScramError.unsupportedChannelBinding) {
        try ScramClientFirst.parse("p=tls-unique,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    }
    #expect(throws: ScramError.unsupportedChannelBinding) { try ScramClientFirst.parse("p=tls-unique,,...") }
}

@Test("'y,,' is accepted as no channel binding, and c= must echo it")
func yFlag() throws {
    let first = try ScramClientFirst.parse("y,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    #expect(first.username == "user")
    #expect(first.bare == "n=user,r=rOprNGfwEbeRWgbNEkqO")
    let server = ScramServer(clientFirst: first, credentials: RFC7677.credentials, serverNonce: RFC7677.serverNonce)
    // The RFC proof was computed over "c=biws", so it is a mismatch with the "y,," header.
    #expect(throws: ScramError.self) { try server.serverFinalMessage(clientFinal: RFC7677.clientFinal) }
}

@Test("malformed server-first messages throw .malformedMessage", arguments: [
    "", "garbage", "r=rOprNGfwEbeRWgbNEkqOxyz", "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
    "r=rOprNGfwEbeRWgbNEkqOxyz,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",
    "r=rOprNGfwEbeRWgbNEkqOxyz,s=not*base64,i=4096", "r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096",
    "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
    "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096",
    "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x",
    "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999999",
    "m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
])
func malformedServerFirst(message: String) {
    var client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
    #expect {
        try client.clientFinalMessage(serverFirst: message)
    } throws: { error in
        if case .malformedMessage = error as? ScramError { return true }
        return false
    }
}

@Test("malformed client-final messages throw .malformedMessage", arguments: [
    "", "garbage", "c=biws", "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=not*base64",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,x=1",
    "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "c=*,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    // Non-canonical base64 (nonzero unused bits) of the correct proof.
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR=",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
])
func malformedClientFinal(message: String) throws {
    let server = try RFC7677.server()
    #expect {
        try server.serverFinalMessage(clientFinal: message)
    } throws: { error in
        if case .malformedMessage = error as? ScramError { return true }
        return false
    }
}

@Test("channel binding data the client-first did not announce is refused")
func channelBindingInClientFinal() throws {
    let server = try RFC7677.server()
    // base64("p=tls-unique,,") = "cD10bHMtdW5pcXVlLCw=": not the "n,," of the client-first.
    let final = "c=cD10bHMtdW5pcXVlLCw=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA"
    #expect(throws: ScramError.malformedMessage("client-final: channel binding does not match the client-first header")) {
        try server.serverFinalMessage(clientFinal: final)
    }
}

@Test("error descriptions are readable")
func errorDescriptions() {
    #expect(ScramError.iterationCountTooLow(1000).description.contains("1000"))
    #expect(ScramError.serverError("other-error").description.contains("other-error"))
    #expect(ScramError.malformedMessage("missing r=").description.contains("missing r="))
    #expect(ScramError.invalidProof.description != ScramError.invalidServerSignature.description)
}

extension String {
    /// Replaces the last occurrence of `target` (which must occur).
    func replacingLast(_ target: String, with replacement: String) -> String {
        guard let range = range(ofLast: target) else { return self }
        return self[..<range.lowerBound] + replacement + self[range.upperBound...]
    }

    /// Replaces every occurrence of `target`; a tiny stand-in so the tests need no Foundation.
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }

    private func range(ofLast target: String) -> Range<Index>? {
        var index = endIndex
        while index > startIndex {
            index = self.index(before: index)
            if self[index...].hasPrefix(target) { return index..<self.index(index, offsetBy: target.count) }
        }
        return nil
    }
}
