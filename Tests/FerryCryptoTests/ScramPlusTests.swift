import FerryCrypto
import Testing

/// SCRAM-SHA-256-PLUS with the tls-exporter binding: RFC 7677's user, password, salt and nonces, with
/// the 32 exporter bytes 0x01 ... 0x20 standing in for a real channel's. The worked example of
/// docs/PROTOCOL.md section 5.7; the values were computed independently (Python's hmac and hashlib).
@Suite struct ScramPlusTests {
    static let exporter = (1...32).map { UInt8($0) }
    static let clientFirst = "p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let clientFinal = "c=cD10bHMtZXhwb3J0ZXIsLAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=w9H9vIo/jsodntpDDeLdytQa0oto6PYDAlsEKQDvVkQ="
    static let serverFinal = "v=SN+XrkAt4u+71j5SzONCA0NMw4hYbX7jqgJparCXX10="

    static func server(binding: [UInt8]?) throws -> ScramServer {
        ScramServer(clientFirst: try ScramClientFirst.parse(clientFirst), credentials: RFC7677.credentials,
                    serverNonce: RFC7677.serverNonce, channelBindingData: binding)
    }

    @Test func theClientBuildsTheDocumentedMessages() throws {
        var client = ScramClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce, channelBindingData: Self.exporter)
        #expect(client.clientFirstMessage == Self.clientFirst)
        #expect(try client.clientFinalMessage(serverFirst: RFC7677.serverFirst) == Self.clientFinal)
        try client.verify(serverFinal: Self.serverFinal)
    }

    @Test func theServerAcceptsTheSameChannelAndAnswersTheDocumentedSignature() throws {
        let parsed = try ScramClientFirst.parse(Self.clientFirst)
        #expect(parsed.channelBinding == .tlsExporter)
        #expect(try Self.server(binding: Self.exporter).serverFinalMessage(clientFinal: Self.clientFinal) == Self.serverFinal)
    }

    @Test func anotherChannelIsAMismatchWhateverThePassword() throws {
        var other = Self.exporter
        other[31] ^= 1
        #expect(throws: ScramError.channelBindingMismatch) {
            try Self.server(binding: other).serverFinalMessage(clientFinal: Self.clientFinal)
        }
        #expect(throws: ScramError.unsupportedChannelBinding) {
            try Self.server(binding: nil).serverFinalMessage(clientFinal: Self.clientFinal)
        }
    }

    @Test func flagsParseAndOtherBindingTypesAreRefused() throws {
        #expect(try ScramClientFirst.parse("y,,n=user,r=abc").channelBinding == .supportedButNotUsed)
        #expect(try ScramClientFirst.parse("n,,n=user,r=abc").channelBinding == .none)
        #expect(throws: ScramError.unsupportedChannelBinding) { try ScramClientFirst.parse("p=tls-unique,,n=user,r=abc") }
    }
}
