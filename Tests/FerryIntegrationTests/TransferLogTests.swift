import FerryWire
import Foundation
import Testing

/// The transfer log says what really moved when a transfer fails part way, and how it failed in the
/// wire's words.
@Suite struct TransferLogTests {
    /// The records of the transfer log at `url`, once it has `count` lines (within 15 s).
    static func records(_ url: URL, count: Int) throws -> [[String: Any]] {
        let lines = { ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n") }
        try waitUntil(timeout: 15) { lines().count >= count }
        return try lines().map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func aGetCutPartWayRecordsTheBytesThatMovedAndItsErrorCode() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-xfer-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let server = try TestServer {
            $0.transferLog = log.path
            $0.stallTimeout = .seconds(1)
        }
        // Far larger than what loopback buffers hold (tens of MiB here), so a client that stops
        // reading stops the server too.
        let size = 256 << 20
        try makeSparseFile(server.url("big.bin"), size: UInt64(size))
        let received = 3 << 20

        // A client that stops reading: the server's stall timeout ends the get.
        let stalled = try HardConnection.loggedIn(server)
        let header = try Self.startGet(stalled, "big.bin")
        #expect(header.size == UInt64(size))
        #expect(try stalled.readBody(UInt64(received)).count == received)
        let timedOut = try #require(try Self.records(log, count: 1).first)
        #expect(timedOut["command"] as? String == "get")
        #expect(timedOut["result"] as? String == "error")
        #expect(timedOut["code"] as? String == "timeout")
        #expect((timedOut["message"] as? String)?.contains("timed out waiting to write") == true, "\(timedOut)")
        let sent = try #require(timedOut["bytes"] as? Int)
        #expect(sent >= received, "at least what the client read")
        #expect(sent < size, "not the whole file")
        #expect(timedOut["md5"] == nil)

        // A client that goes away part way.
        let leaving = try HardConnection.loggedIn(server)
        _ = try Self.startGet(leaving, "big.bin")
        #expect(try leaving.readBody(UInt64(received)).count == received)
        leaving.stream.close()
        let records = try Self.records(log, count: 2)
        #expect(records[1]["result"] as? String == "error")
        #expect(records[1]["code"] as? String == "disconnected", "\(records[1])")
        #expect((records[1]["bytes"] as? Int ?? 0) >= received)
        #expect((records[1]["bytes"] as? Int ?? .max) < size)

        // An upload cut part way counts what was received.
        let uploader = try HardConnection.loggedIn(server)
        try uploader.send(.put(PutRequest(path: "cut.bin", size: 1 << 20, md5: String(repeating: "0", count: 32))))
        #expect(try uploader.receive() == .ready)
        try uploader.sendBytes([UInt8](repeating: 1, count: 100_000))
        uploader.stream.close()
        let put = try Self.records(log, count: 3)[2]
        #expect(put["command"] as? String == "put")
        #expect(put["code"] as? String == "disconnected", "\(put)")
        #expect(put["bytes"] as? Int == 100_000, "every byte sent was received before the close")
    }

    /// Sends `get` and reads up to the `file` header.
    static func startGet(_ connection: HardConnection, _ path: String) throws -> FileHeader {
        try connection.send(.get(PathRequest(path: path)))
        while true {
            let message = try connection.receive(timeout: .seconds(30))
            switch message {
            case .preparing: continue
            case .file(let header): return header
            default: throw HardUnexpected("expected file, got \(message)")
            }
        }
    }
}
