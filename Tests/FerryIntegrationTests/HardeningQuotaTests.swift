import FerryWire
import Foundation
import Testing

/// A per-user quota: the test server's "limited" user may keep 1 MiB under the share it shares with
/// "alice". An upload that would pass it is refused before any byte, uploads in flight hold their room,
/// and a failed upload gives its room back.
@Suite struct HardeningQuotaTests {
    static let KiB = 1024

    /// A put of `size` random bytes that stops after `ready`: the caller sends the body (or not).
    static func startPut(_ connection: HardConnection, _ path: String, size: Int) throws -> (answer: Message, body: [UInt8]) {
        let body = Array(try randomBytes(size))
        try connection.send(.put(PutRequest(path: path, size: UInt64(size), md5: md5Hex(body))))
        return (try connection.receive(), body)
    }

    @Test func anUploadOverTheQuotaIsRefusedBeforeAnyByte() throws {
        let server = try TestServer()
        try randomBytes(600 * Self.KiB).write(to: server.url("already.bin"))
        let limited = try HardConnection.loggedIn(server, user: "limited")

        let (refused, _) = try Self.startPut(limited, "big.bin", size: 500 * Self.KiB)
        #expect(errorCode(refused) == .tooLarge, "got \(refused)")
        if case .error(let reply) = refused { #expect(reply.message.contains("quota"), "\(reply.message)") }
        #expect(try server.names() == ["already.bin"], "nothing, not even a temporary file, was created")

        #expect(errorCode(try limited.put("fits.bin", Array(try randomBytes(400 * Self.KiB)))) == nil, "600 + 400 KiB fit in 1 MiB")
        let alice = try HardConnection.loggedIn(server)
        #expect(errorCode(try alice.put("alice.bin", Array(try randomBytes(500 * Self.KiB)))) == nil, "alice has no quota")
        #expect(errorCode(try limited.put("one-more.bin", [1])) == .tooLarge, "alice's upload counts against the shared share")
    }

    @Test func replacingAFileCountsOnlyWhatItAdds() throws {
        let server = try TestServer()
        try randomBytes(900 * Self.KiB).write(to: server.url("a.bin"))
        let limited = try HardConnection.loggedIn(server, user: "limited")

        let replacement = Array(try randomBytes(1000 * Self.KiB))
        #expect(errorCode(try limited.put("a.bin", replacement)) == nil, "900 KiB replaced by 1000 KiB: 100 KiB more")
        #expect(try Data(contentsOf: server.url("a.bin")) == Data(replacement))
        #expect(errorCode(try limited.put("b.bin", Array(try randomBytes(100 * Self.KiB)))) == .tooLarge, "1000 + 100 KiB do not fit")
        #expect(errorCode(try limited.put("a.bin", Array(try randomBytes(10 * Self.KiB)))) == nil, "shrinking a file always fits")
        #expect(errorCode(try limited.put("b.bin", Array(try randomBytes(500 * Self.KiB)))) == nil, "and frees room")
    }

    @Test func uploadsInFlightHoldTheirRoomUntilTheyEnd() throws {
        let server = try TestServer()
        let first = try HardConnection.loggedIn(server, user: "limited")
        let second = try HardConnection.loggedIn(server, user: "limited")

        let (ready, body) = try Self.startPut(first, "first.bin", size: 600 * Self.KiB)
        #expect(ready == .ready)
        try first.sendBytes(Array(body[..<(body.count / 2)]))
        let (refused, _) = try Self.startPut(second, "second.bin", size: 600 * Self.KiB)
        #expect(errorCode(refused) == .tooLarge, "600 KiB are held by the upload in flight: \(refused)")
        try first.sendBytes(Array(body[(body.count / 2)...]))
        guard case .stored = try first.receive(timeout: .seconds(10)) else { Issue.record("the first upload was not stored"); return }

        // An upload that fails half way gives its room back.
        let third = try HardConnection.loggedIn(server, user: "limited")
        let (readyAgain, abandoned) = try Self.startPut(third, "abandoned.bin", size: 400 * Self.KiB)
        #expect(readyAgain == .ready)
        try third.sendBytes(Array(abandoned[..<1000]))
        third.socket.close()
        #expect(eventually { (try? server.names()) == ["first.bin"] }, "the abandoned upload's temporary file is removed")
        #expect(errorCode(try second.put("second.bin", Array(try randomBytes(400 * Self.KiB)))) == nil,
                "600 + 400 KiB fit once the abandoned upload let go of its room")
    }

    @Test func theCountIsOfFilesUnderTheRootOnly() throws {
        let server = try TestServer()
        let manager = FileManager.default
        // Outside the root, 2 MiB reached by a symlink; inside, an upload in progress of another
        // ferryd (a temporary name) and a nested file: only the nested file counts.
        try randomBytes(2 << 20).write(to: server.directory.appendingPathComponent("outside.bin"))
        try manager.createSymbolicLink(atPath: server.url("link.bin").path, withDestinationPath: "../outside.bin")
        try randomBytes(2 << 20).write(to: server.url(".ferry-upload-0123456789abcdef.part"))
        try manager.createDirectory(at: server.url("deep/er"), withIntermediateDirectories: true)
        try randomBytes(300 * Self.KiB).write(to: server.url("deep/er/counted.bin"))
        let limited = try HardConnection.loggedIn(server, user: "limited")

        #expect(errorCode(try limited.put("fits.bin", Array(try randomBytes(700 * Self.KiB)))) == nil, "300 + 700 KiB fit")
        #expect(errorCode(try limited.put("over.bin", Array(try randomBytes(30 * Self.KiB)))) == .tooLarge, "1000 + 30 KiB do not")
    }
}
