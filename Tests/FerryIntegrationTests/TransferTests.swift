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
        let mode = try FileManager.default.attributesOfItem(atPath: back.file(name).path)[.posixPermissions] as? Int
        let umask = processUmask()
        #expect(mode == 0o644 & ~umask, "a download has the mode of any new file, 0644 less the umask: \(String(mode ?? 0, radix: 8))")
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

    @Test func aGetOfAFileAlreadyHereWithTheSameContentMovesNothing() throws {
        let server = try TestServer()
        let content = try randomBytes(6 << 20)
        try content.write(to: server.url("f.bin"))
        let local = try LocalDirectory()
        let session = try server.login()
        var notices: [String] = []
        session.notices = { notices.append($0) }
        let destination = LocalDestination(directory: local.path, name: "f.bin")
        #expect(try session.download("f.bin", to: destination).bytes == 6 << 20)
        let again = try session.download("f.bin", to: destination)
        #expect(again.bytes == 0 && again.contentHash == Self.contentHash(of: Array(content)))
        #expect(notices == ["f.bin is here already with the same content; nothing to fetch"])
        let forced = try session.download("f.bin", to: destination, options: TransferOptions(resume: false))
        #expect(forced.bytes == 6 << 20, "--no-resume fetches it all again")
        #expect(try Data(contentsOf: local.file("f.bin")) == content)
    }

    @Test func aNewClientFallsBackToGetAndPutOnAServerWithoutChunks() throws {
        let server = try TestServer { $0.offersChunks = false }
        let local = try LocalDirectory()
        let original = try randomBytes(5 << 20 + 17)
        try original.write(to: local.file("up.bin"))
        let session = try server.login()
        #expect(!session.chunked)
        let stored = try session.upload(local.file("up.bin").path, to: "up.bin")
        #expect(stored.md5 == Digest.hash(.md5, Array(original)).hexString && stored.contentHash == nil)
        let back = try session.download("up.bin", to: LocalDestination(directory: local.path, name: "back.bin"))
        #expect(back.bytes == UInt64(original.count))
        #expect(try Data(contentsOf: local.file("back.bin")) == original)
        #expect(throws: ClientError.self, "no put -r without mkdir") {
            try session.uploadTree(local.path, to: "tree")
        }
    }

    /// The content hash computed here the slow, obvious way: SHA-256 of each 4 MiB slice, then of them all.
    static func contentHash(of bytes: [UInt8]) -> String {
        let size = 4 << 20
        let digests = stride(from: 0, to: bytes.count, by: size).map { Digest.hash(.sha256, Array(bytes[$0..<min($0 + size, bytes.count)])) }
        return Digest.hash(.sha256, digests.flatMap { $0 }).hexString
    }
}
