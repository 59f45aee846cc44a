import FerryClient
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
}
