@testable import FerryClient
import FerryPosix
import FerryWire
import Foundation
import Testing

@Suite("LocalDigests")
struct LocalDigestsTests {
    private func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ferry-digests-\(UUID().uuidString)-\(name)").path
    }

    @Test("a file's digests are computed once, kept on disk, and forgotten when the file changes")
    func persistence() throws {
        let path = temporaryPath("data")
        let cachePath = temporaryPath("cache/digests")
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: (cachePath as NSString).deletingLastPathComponent)
        }
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        let cache = LocalDigests(path: cachePath)
        let file = try File.openForReading(path: path)
        let digests = try cache.digests(of: file, md5: true)
        // The documented worked example: "hello" is one chunk.
        #expect(digests.contentHash == "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50")
        #expect(digests.md5 == "5d41402abc4b2a76b9719d911017c592")
        cache.save()
        let reloaded = LocalDigests(path: cachePath)
        #expect(reloaded.lookup(try FileStatus.of(file)) == digests, "the cache survives a new process")
        try Data("hello!".utf8).write(to: URL(fileURLWithPath: path))
        let changed = try File.openForReading(path: path)
        #expect(reloaded.lookup(try FileStatus.of(changed)) == nil)
        #expect(try reloaded.digests(of: changed).contentHash != digests.contentHash)
    }

    @Test("damaged lines are skipped, good ones kept")
    func damaged() throws {
        let cachePath = temporaryPath("digests")
        defer { try? FileManager.default.removeItem(atPath: cachePath) }
        let hash = String(repeating: "a", count: 64)
        try "garbage\n1 2 3 4 5 \(hash)\n1 2 3 4 5 short\n".write(toFile: cachePath, atomically: true, encoding: .utf8)
        let cache = LocalDigests(path: cachePath)
        var st = stat()
        st.st_mode = S_IFREG | 0o644
        st.st_dev = 1
        st.st_ino = 2
        st.st_size = 3
        st.st_mtim.tv_sec = 4
        st.st_mtim.tv_nsec = 5
        #expect(cache.lookup(FileStatus(st)) == LocalDigests.Digests(contentHash: hash, md5: nil))
    }

    @Test("ls -l shows 12 digits of the content hash, or - for a file the server has not hashed")
    func listing() {
        let lines = ListingFormat.lines([
            Entry(name: "a", kind: .file, size: 5, mtime: 0, contentHash: "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50"),
            Entry(name: "b", kind: .file, size: 5, mtime: 0),
            Entry(name: "d", kind: .directory, size: 0, mtime: 0),
        ], hashes: true)
        #expect(lines == [
            "- 5  1970-01-01 00:00  9595c9df9007  a",
            "- 5  1970-01-01 00:00  -             b",
            "d 0  1970-01-01 00:00                d/",
        ])
    }
}
