import FerryCrypto
import Testing

@Test("user names with ',' and '=' are escaped on the wire and unescaped by the server", arguments: [
    ("a,b", "n=a=2Cb"), ("x=y", "n=x=3Dy"), ("=,=", "n==3D=2C=3D"), ("plain", "n=plain"), ("ü,=ñ", "n=ü=2C=3Dñ"),
])
func usernameEscaping(name: String, wire: String) throws {
    let client = ScramClient(username: name, password: "pw", nonce: "abc")
    #expect(client.clientFirstMessage == "n,,\(wire),r=abc")
    let first = try ScramClientFirst.parse(client.clientFirstMessage)
    #expect(first.username == name)
    #expect(first.clientNonce == "abc")
    #expect(first.bare == "\(wire),r=abc")
}

@Test("fake credentials are deterministic per name and differ between names and secrets")
func fakeDeterministic() {
    let secret = SecureRandom.bytes(32)
    let a1 = ScramServer.fakeCredentials(for: "alice", secret: secret)
    let a2 = ScramServer.fakeCredentials(for: "alice", secret: secret)
    let b = ScramServer.fakeCredentials(for: "bob", secret: secret)
    let otherSecret = ScramServer.fakeCredentials(for: "alice", secret: SecureRandom.bytes(32))
    #expect(a1 == a2)
    #expect(a1.salt != b.salt)
    #expect(a1.salt != otherSecret.salt)
    #expect(a1.salt.count == 16)
    #expect(a1.iterations == 4096)
    #expect(a1.storedKey.count == 32 && a1.serverKey.count == 32)
    #expect(a1.storedKey != a1.serverKey)
}

@Test("fake credentials follow the documented salt derivation")
func fakeSaltDerivation() {
    let secret = Array("server secret".utf8)
    let expected = Array(HMAC.sha256(key: secret, message: Array("salt:carol".utf8)).prefix(16))
    #expect(ScramServer.fakeCredentials(for: "carol", secret: secret).salt == expected)
}

@Test("no password passes against fake credentials, and the exchange looks normal")
func fakeNeverPasses() throws {
    let secret = SecureRandom.bytes(32)
    for password in ["", "pencil", "ghost"] {
        var client = ScramClient(username: "ghost", password: password)
        let first = try ScramClientFirst.parse(client.clientFirstMessage)
        let server = ScramServer(clientFirst: first, credentials: ScramServer.fakeCredentials(for: first.username, secret: secret))
        #expect(server.serverFirstMessage.contains(",i=4096"))
        let clientFinal = try client.clientFinalMessage(serverFirst: server.serverFirstMessage)
        #expect(throws: ScramError.invalidProof) { try server.serverFinalMessage(clientFinal: clientFinal) }
    }
}
