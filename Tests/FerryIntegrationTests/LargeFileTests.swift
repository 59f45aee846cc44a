@testable import FerryClient
import FerryPosix
import Foundation
import Testing

/// Sizes past 4 GiB: 32-bit lengths anywhere on the path would wrap. Slow (it writes 5 GiB), so it
/// runs under `make test-large`, which sets FERRY_LARGE_TESTS=1.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FERRY_LARGE_TESTS"] == "1"))
struct LargeFileTests {
    @Test func aFiveGiBFileComesBackWhole() throws {
        let server = try TestServer()
        let size: UInt64 = 5 << 30 + 12_345
        // Sparse on the server: zeros, except a marker near the end that a wrapped offset would miss.
        #expect(FileManager.default.createFile(atPath: server.url("huge.bin").path, contents: nil))
        let handle = try FileHandle(forWritingTo: server.url("huge.bin"))
        try handle.truncate(atOffset: size)
        try handle.seek(toOffset: size - 100)
        try handle.write(contentsOf: Data("end marker".utf8))
        try handle.close()

        let local = try LocalDirectory()
        let session = try server.login()
        let result = try session.download("huge.bin", to: LocalDestination(directory: local.path, name: "huge.bin"))
        #expect(result.bytes == size)
        let received = try FileHandle(forReadingFrom: local.file("huge.bin"))
        try received.seek(toOffset: size - 100)
        #expect(try received.read(upToCount: 10) == Data("end marker".utf8))
        try received.close()
        #expect(try FileManager.default.attributesOfItem(atPath: local.file("huge.bin").path)[.size] as? UInt64 == size)
    }

    /// A 5 GiB get cut twice on the way (at about 30 % and 70 %), then run to the end: each attempt
    /// takes up what the one before verified, and the three together move the file about once.
    @Test func aFiveGiBGetCutTwiceResumesToTheSameBytes() throws {
        let server = try TestServer()
        let size: UInt64 = 5 << 30 + 12_345
        try Self.sparseFile(server.url("huge.bin").path, size: size)
        let relay = try CuttingRelay(to: server.port)
        relay.cut(connection: 1, .serverToClient, after: size * 3 / 10)
        relay.cut(connection: 2, .serverToClient, after: size * 4 / 10)
        let local = try LocalDirectory()
        let destination = LocalDestination(directory: local.path, name: "huge.bin")
        var moved: [UInt64] = []
        for attempt in 1...3 {
            let session = try ClientSession.connect(host: "127.0.0.1", port: relay.port, security: server.security)
            try session.login(user: "alice", password: TestServer.password)
            do {
                let result = try session.download("huge.bin", to: destination)
                #expect(attempt == 3, "only the third attempt runs uncut")
                #expect(result.resumedBytes > 0 && result.resumedBytes + result.bytes == size)
            } catch {
                #expect(attempt < 3, "attempt \(attempt): \(error)")
                #expect(!FileManager.default.fileExists(atPath: local.file("huge.bin").path), "nothing under the final name")
            }
            moved.append(relay.passed(attempt).serverToClient)
        }
        #expect(moved.reduce(0, +) < size + size / 20, "about one file's worth moved in all: \(moved)")
        try Self.expectMarker(local.file("huge.bin").path, size: size)
        #expect(try local.names() == ["huge.bin"])
    }

    /// The same for a 5 GiB put: the server keeps what each cut attempt verified.
    @Test func aFiveGiBPutCutTwiceResumesToTheSameBytes() throws {
        let server = try TestServer()
        let size: UInt64 = 5 << 30 + 12_345
        let local = try LocalDirectory()
        try Self.sparseFile(local.file("huge.bin").path, size: size)
        let relay = try CuttingRelay(to: server.port)
        relay.cut(connection: 1, .clientToServer, after: size * 3 / 10)
        relay.cut(connection: 2, .clientToServer, after: size * 4 / 10)
        var moved: [UInt64] = []
        for attempt in 1...3 {
            let session = try ClientSession.connect(host: "127.0.0.1", port: relay.port, security: server.security)
            try session.login(user: "alice", password: TestServer.password)
            do {
                let result = try session.upload(local.file("huge.bin").path, to: "huge.bin")
                #expect(attempt == 3, "only the third attempt runs uncut")
                #expect(result.resumedBytes > 0 && result.resumedBytes + result.bytes == size)
            } catch {
                #expect(attempt < 3, "attempt \(attempt): \(error)")
                #expect(!FileManager.default.fileExists(atPath: server.url("huge.bin").path), "nothing under the final name")
            }
            session.close()
            moved.append(relay.passed(attempt).clientToServer)
            // The server lets go of the partial's lock when it notices the cut.
            try waitUntil(timeout: 10) { server.server.connectionCount == 0 }
        }
        #expect(moved.reduce(0, +) < size + size / 20, "about one file's worth moved in all: \(moved)")
        try Self.expectMarker(server.url("huge.bin").path, size: size)
        #expect(try server.names() == ["huge.bin"], "no partial is left on the server")
    }

    /// A sparse file of `size` bytes: zeros, but for a marker near the end that a wrapped offset would miss.
    static func sparseFile(_ path: String, size: UInt64) throws {
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: size)
        try handle.seek(toOffset: size - 100)
        try handle.write(contentsOf: Data("end marker".utf8))
        try handle.close()
    }

    static func expectMarker(_ path: String, size: UInt64) throws {
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64 == size)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        try handle.seek(toOffset: size - 100)
        #expect(try handle.read(upToCount: 10) == Data("end marker".utf8))
        try handle.close()
    }
}
