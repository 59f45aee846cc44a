import FerryClient
import FerryCrypto
import FerryPosix
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// Files go up and come back byte for byte, whatever their size or name.
@Suite struct TransferTests {
    @Test(arguments: [
        ("empty.bin", 0),
        ("one.bin", 1),
        ("报告 final (1).txt", 4099),
        ("big-64MiB.bin", 64 << 20),
    ])
    func putThenGetReturnsTheSameBytes(name: String, size: Int) throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        let original = try randomBytes(size)
        let source = local.file("source-" + name)
        try original.write(to: source)

        let session = try server.login()
        let stored = try session.upload(source.path, to: name, options: TransferOptions(md5: true))
        #expect(stored.bytes == UInt64(size))
        #expect(stored.md5 == Digest.hash(.md5, Array(original)).hexString)
        #expect(stored.contentHash == Self.contentHash(of: Array(original)))
        #expect(try Data(contentsOf: server.url(name)) == original)

        let back = try LocalDirectory()
        let result = try session.download(name, to: LocalDestination(directory: back.path, name: name), options: TransferOptions(md5: true))
        #expect(result.bytes == UInt64(size))
        #expect(result.md5 == stored.md5)
        #expect(result.contentHash == stored.contentHash)
        #expect(try Data(contentsOf: back.file(name)) == original)
        #expect(try back.names() == [name], "no temporary file may remain")
        #expect(try server.names() == [name], "no temporary file may remain on the server")
        session.close()
    }

    @Test func lsShowsNamesKindsAndSizes() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("docs"), withIntermediateDirectories: true)
        try Data(count: 1234).write(to: server.url("docs/a.bin"))
        try Data("hi".utf8).write(to: server.url("top.txt"))
        let session = try server.login()

        let root = try session.list("")
        let byName = Dictionary(uniqueKeysWithValues: root.entries.map { ($0.name, $0) })
        #expect(byName.keys.sorted() == ["docs", "top.txt"])
        #expect(byName["docs"]?.kind == .directory)
        #expect(byName["top.txt"]?.kind == .file)
        #expect(byName["top.txt"]?.size == 2)
        #expect(root.truncated == false)

        let docs = try session.list("docs")
        #expect(docs.entries.map(\.name) == ["a.bin"])
        #expect(docs.entries.first?.size == 1234)
        #expect(abs((docs.entries.first?.mtime ?? 0) - Int64(Date().timeIntervalSince1970)) < 120)
    }

    @Test func lsOfALargeDirectoryArrivesInSeveralFramesAndWhole() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("many"), withIntermediateDirectories: true)
        for index in 0..<300 {
            _ = FileManager.default.createFile(atPath: server.url("many/file-\(index)-" + String(repeating: "x", count: 200)).path, contents: nil)
        }
        let listing = try server.login().list("many")
        #expect(listing.entries.count == 300)
        #expect(Set(listing.entries.map(\.name)).count == 300)
    }

    @Test func lsStopsAtTheConfiguredMaximumAndSaysSo() throws {
        let server = try TestServer { $0.maxListEntries = 10 }
        for index in 0..<25 {
            _ = FileManager.default.createFile(atPath: server.url("f\(index)").path, contents: nil)
        }
        let listing = try server.login().list("")
        #expect(listing.entries.count == 10)
        #expect(listing.truncated)
    }

    @Test func putReplacesAnExistingFileWhole() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        try Data("old contents".utf8).write(to: server.url("doc.txt"))
        try Data("new contents, longer".utf8).write(to: local.file("doc.txt"))
        _ = try server.login().upload(local.file("doc.txt").path, to: "doc.txt")
        #expect(try String(contentsOf: server.url("doc.txt"), encoding: .utf8) == "new contents, longer")
    }

    @Test func aSecondGetOfAnUnchangedFileUsesTheCachedDigest() throws {
        let server = try TestServer()
        let content = try randomBytes(100_000)
        try content.write(to: server.url("f.bin"))
        let local = try LocalDirectory()
        let session = try server.login()
        let first = try session.download("f.bin", to: LocalDestination(directory: local.path, name: "1"))
        let file = try File.openForReading(path: server.url("f.bin").path)
        let status = try FileStatus.of(file)
        let cached = try #require(server.server.manifests.cached(file, status: status))
        #expect(cached.contentHash.hexString == first.contentHash)
        #expect(first.contentHash == Self.contentHash(of: Array(content)))
        #expect(first.md5 == Digest.hash(.md5, Array(content)).hexString, "a small file's MD5 comes in the same pass")
        let second = try session.download("f.bin", to: LocalDestination(directory: local.path, name: "2"))
        #expect(second.contentHash == first.contentHash)
    }

    /// The content hash computed here the slow, obvious way: SHA-256 of each 4 MiB slice, then of them all.
    static func contentHash(of bytes: [UInt8]) -> String {
        let size = 4 << 20
        let digests = stride(from: 0, to: bytes.count, by: size).map { Digest.hash(.sha256, Array(bytes[$0..<min($0 + size, bytes.count)])) }
        return Digest.hash(.sha256, digests.flatMap { $0 }).hexString
    }
}
