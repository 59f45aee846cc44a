@testable import FerryClient
import FerryTransport
import FerryWire

/// Speaks single messages and raw bytes on a logged-in session's connection, to play a misbehaving client.
struct RawClient {
    let session: ClientSession
    init(_ session: ClientSession) { self.session = session }

    func send(_ message: Message) throws { try session.channel.send(message, timeout: .seconds(10)) }
    func receive() throws -> Message { try session.channel.receive(timeout: .seconds(10)) }
    func sendRaw(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try session.channel.stream.write($0, timeout: .seconds(10)) }
    }
}
