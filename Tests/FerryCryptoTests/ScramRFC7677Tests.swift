import FerryCrypto
import Testing

/// The SCRAM-SHA-256 example exchange of RFC 7677 section 3.
enum RFC7677 {
    static let user = "user"
    static let password = "pencil"
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let salt = [UInt8](base64: "W22ZaJ0SNY7soEsUEjb6gQ==")
    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    static var credentials: ScramCredentials {
        ScramCredentials.derive(password: password, salt: salt, iterations: 4096)
    }

    static func server() throws -> ScramServer {
        ScramServer(clientFirst: try ScramClientFirst.parse(clientFirst), credentials: credentials, serverNonce: serverNonce)
    }
}

extension Array where Element == UInt8 {
    /// Test helper: decodes a known-good base64 literal (a tiny decoder, independent of FerryCrypto).
    init(base64: String) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var bits = 0
        var bitCount = 0
        var out: [UInt8] = []
        for c in base64.utf8 where c != UInt8(ascii: "=") {
            bits = bits << 6 | alphabet.firstIndex(of: c)!
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> bitCount))
            }
        }
        self = out
    }
}

@Test("client produces the RFC 7677 client-first and client-final and accepts the server-final")
func clientMatchesRFC() throws {
    var client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
    #expect(client.clientFirstMessage == RFC7677.clientFirst)
    let final = try client.clientFinalMessage(serverFirst: RFC7677.serverFirst)
    #expect(final == RFC7677.clientFinal)
    #expect(throws: Never.self) { try client.verify(serverFinal: RFC7677.serverFinal) }
}

@Test("server parses the RFC 7677 client-first")
func serverParsesClientFirst() throws {
    let first = try ScramClientFirst.parse(RFC7677.clientFirst)
    #expect(first.username == "user")
    #expect(first.clientNonce == RFC7677.clientNonce)
    #expect(first.bare == "n=user,r=rOprNGfwEbeRWgbNEkqO")
}

@Test("server produces the RFC 7677 server-first and server-final")
func serverMatchesRFC() throws {
    let server = try RFC7677.server()
    #expect(server.serverFirstMessage == RFC7677.serverFirst)
    #expect(try server.serverFinalMessage(clientFinal: RFC7677.clientFinal) == RFC7677.serverFinal)
}

@Test("derived credentials match the RFC 7677 keys")
func derivedCredentials() {
    let credentials = RFC7677.credentials
    #expect(credentials.salt.count == 16)
    #expect(credentials.iterations == 4096)
    #expect(credentials.storedKey.count == 32)
    #expect(credentials.serverKey.count == 32)
    #expect(credentials == ScramCredentials.derive(password: "pencil", salt: RFC7677.salt, iterations: 4096))
    #expect(credentials != ScramCredentials.derive(password: "pencil2", salt: RFC7677.salt, iterations: 4096))
}

@Test("a full exchange with random nonces and an escaped user name succeeds")
func fullExchange() throws {
    let secret = "p@ss,word=ü"
    let salt = SecureRandom.bytes(16)
    var client = ScramClient(username: "a,b=c", password: secret)
    let first = try ScramClientFirst.parse(client.clientFirstMessage)
    #expect(first.username == "a,b=c")
    let server = ScramServer(
        clientFirst: first,
        credentials: .derive(password: secret, salt: salt, iterations: ScramCredentials.minimumIterations))
    let clientFinal = try client.clientFinalMessage(serverFirst: server.serverFirstMessage)
    let serverFinal = try server.serverFinalMessage(clientFinal: clientFinal)
    #expect(serverFinal.hasPrefix("v="))
    #expect(throws: Never.self) { try client.verify(serverFinal: serverFinal) }
}
