import FerryCrypto
import FerryPosix
import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// The digests of `bytes` computed here the plain way: each 4 MiB slice, then their concatenation.
private func expectedChunks(_ bytes: [UInt8]) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: ChunkGrid.size).map {
        Digest.hash(.sha256, Array(bytes[$0..<min($0 + ChunkGrid.size, bytes.count)]))
    }
}

/// An empty sparse file of `chunks` chunks: more than 64 are more than the attribute holds.
private func sparseFile(_ directory: TemporaryDirectory, _ name: String, chunks: Int) throws -> Descriptor {
    let path = directory.url(name)
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: UInt64(chunks) << 22)
    try handle.close()
    return try File.openForReading(path: path)
}

private func randomFile(_ directory: TemporaryDirectory, _ name: String, size: Int) throws -> (Descriptor, [UInt8]) {
    let bytes = SecureRandom.bytes(size)
    try Data(bytes).write(to: URL(fileURLWithPath: directory.url(name)))
    return (try File.openForReading(path: directory.url(name)), bytes)
}

@Suite("FileHasher and ManifestStore")
struct ManifestStoreTests {
    @Test("chunk digests and MD5 in one pass match the plain computation", arguments: [0, 1, 4 << 20, 9 << 20 + 3])
    func hashes(size: Int) throws {
        let directory = try TemporaryDirectory()
        let (file, bytes) = try randomFile(directory, "f", size: size)
        let result = try FileHasher.hash(file, size: UInt64(size), md5: true)
        #expect(result.digests == expectedChunks(bytes))
        #expect(result.md5 == Digest.hash(.md5, bytes))
        #expect(ContentHash.of(result.digests) == Digest.hash(.sha256, expectedChunks(bytes).flatMap { $0 }))
        let some = try FileHasher.hash(file, size: UInt64(size), indices: Array(0..<ChunkGrid.count(for: UInt64(size))).reversed())
        #expect(some.digests == expectedChunks(bytes).reversed(), "digests come in the order asked for")
    }

    @Test("holes of a sparse file hash as the zeros they read as, and a shrunk file is an error")
    func sparse() throws {
        let directory = try TemporaryDirectory()
        let path = directory.url("sparse")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 12 << 20)
        try handle.seek(toOffset: 5 << 20)
        try handle.write(contentsOf: Data("data in chunk 1".utf8))
        try handle.close()
        var bytes = [UInt8](repeating: 0, count: 12 << 20)
        bytes.replaceSubrange((5 << 20)..<((5 << 20) + 15), with: Array("data in chunk 1".utf8))
        let file = try File.openForReading(path: path)
        #expect(try FileHasher.hash(file, size: 12 << 20).digests == expectedChunks(bytes))
        #expect(throws: FileShrank.self) { try FileHasher.hash(file, size: 13 << 20) }
    }

    @Test("a manifest is kept in the file's attribute and survives a new store (a restart)")
    func attribute() throws {
        let directory = try TemporaryDirectory()
        let (file, bytes) = try randomFile(directory, "f", size: 5 << 20)
        let status = try FileStatus.of(file)
        let manifest = try ManifestStore(cacheDirectory: nil).manifest(file, status: status, md5: true) { _ in }
        #expect(manifest.chunks == expectedChunks(bytes) && manifest.md5 == Digest.hash(.md5, bytes))
        let restarted = ManifestStore(cacheDirectory: nil)
        try #require(File.attribute(file, "user.ferry.manifest") != nil, "this file system keeps user attributes")
        #expect(restarted.cached(file, status: status) == manifest)
        // Any write changes the modification time: the attribute no longer applies.
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.url("f")))
        try writer.write(contentsOf: Data("x".utf8))
        try writer.close()
        #expect(restarted.cached(file, status: try FileStatus.of(file)) == nil)
    }

    @Test("a forgotten manifest is no longer served from memory")
    func forget() throws {
        let directory = try TemporaryDirectory()
        // 65 chunks and no cache directory: the manifest is kept in memory only, not in the attribute.
        let file = try sparseFile(directory, "big", chunks: 65)
        let status = try FileStatus.of(file)
        let store = ManifestStore(cacheDirectory: nil)
        let manifest = try store.manifest(file, status: status, md5: false) { _ in }
        #expect(store.cached(file, status: status) == manifest)
        store.forget(status)
        #expect(store.cached(file, status: status) == nil)
    }

    @Test("digests of a large file go to the cache directory, and a damaged cache file is not trusted")
    func cacheDirectory() throws {
        let directory = try TemporaryDirectory()
        try directory.makeDirectory("cache")
        let cache = try File.openDirectory(path: directory.url("cache"))
        // 65 chunks of a sparse file: more than the attribute holds.
        let file = try sparseFile(directory, "big", chunks: 65)
        let status = try FileStatus.of(file)
        let manifest = try ManifestStore(cacheDirectory: cache).manifest(file, status: status, md5: false) { _ in }
        #expect(manifest.chunks.count == 65)
        let stored = directory.url("cache/" + manifest.contentHash.hexString)
        #expect(FileManager.default.fileExists(atPath: stored))
        #expect(ManifestStore(cacheDirectory: cache).cached(file, status: status) == manifest)
        var damaged = try Data(contentsOf: URL(fileURLWithPath: stored))
        damaged[100] ^= 1
        try damaged.write(to: URL(fileURLWithPath: stored))
        #expect(ManifestStore(cacheDirectory: cache).cached(file, status: status) == nil)
    }
}
