@testable import FerryClient
import FerryCrypto
import FerryWire
import Foundation
import Testing

/// `put -r` and second runs of `get -r`/`put -r`: directories made, unchanged files skipped both ways.
@Suite struct TreeUploadTests {
    @Test func putRCopiesATreeAndASecondRunSendsOnlyWhatChanged() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        // The same tree as the get -r tests, made locally this time.
        let scratch = try TestServer(sharePath: local.path)
        let tree = try TreeDownloadTests.makeTree(in: scratch)
        let session = try server.login()
        session.localDigests = LocalDigests(path: nil)

        let first = try session.uploadTree(tree.path, to: "backup/tree")
        #expect(first.failures.isEmpty, "\(first.failures)")
        #expect(first.files == 302 && first.unchanged == 0)
        #expect(first.skipped == [tree.path + "/link"])
        #expect(TreeDownloadTests.contents(server.url("backup/tree")) == TreeDownloadTests.contents(tree))

        let second = try session.uploadTree(tree.path, to: "backup/tree")
        #expect(second.files == 0 && second.unchanged == 302 && second.bytes == 0)

        try Data("changed\n".utf8).write(to: tree.appendingPathComponent("many/f3"))
        let third = try session.uploadTree(tree.path, to: "backup/tree")
        #expect(third.files == 1 && third.unchanged == 301)
        #expect(TreeDownloadTests.contents(server.url("backup/tree")) == TreeDownloadTests.contents(tree))
        #expect(try FileManager.default.subpathsOfDirectory(atPath: server.url("backup").path).allSatisfy { !$0.contains(".ferry-") },
                "no hidden files left on the server")
    }

    @Test func aFileRefusedInThePipelineIsReportedAndTheRestAreStored() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        for index in 0..<100 { try randomBytes(index * 37).write(to: local.file("f\(index)")) }
        // Where f50 should go, a directory stands: that upload is refused, with its chunk and commit
        // already on their way behind it.
        try FileManager.default.createDirectory(at: server.url("up/f50"), withIntermediateDirectories: true)
        let session = try server.login()
        let result = try session.uploadTree(local.path, to: "up")
        #expect(result.files == 99)
        #expect(result.failures.count == 1 && result.failures[0].contains("f50") && result.failures[0].contains("is a directory"), "\(result.failures)")
        for index in 0..<100 where index != 50 {
            #expect(try Data(contentsOf: server.url("up/f\(index)")) == Data(contentsOf: local.file("f\(index)")))
        }
        #expect(try session.list("up").entries.count == 100, "the session goes on, in step")
    }

    @Test func theServerDropsWhatWasSentBehindARefusedUploadAndEndsALastCommitThatLacksChunks() throws {
        let server = try TestServer()
        let session = try server.login()
        let raw = RawClient(session)
        let body = Array("hello".utf8)
        let digest = Digest.hash(.sha256, body).hexString
        // Refused (the root is a directory): the chunk and commit behind it are dropped, the ls answered.
        try raw.send(.upload(UploadRequest(path: "", size: 5)))
        try raw.send(.chunk(ChunkHeader(index: 0, size: 5, sha256: digest)))
        try raw.sendRaw(body)
        try raw.send(.commit(CommitRequest(contentHash: String(repeating: "0", count: 64), last: true)))
        try raw.send(.list(PathRequest(path: "")))
        guard case .error(let refusal) = try raw.receive() else { Issue.record("no refusal"); return }
        #expect(refusal.code == .isDirectory)
        guard case .listing = try raw.receive() else { Issue.record("the ls was not answered next"); return }

        // Accepted, but the last commit comes with chunk 1 of 2 missing: checksum_mismatch, not incomplete.
        let big = [UInt8](repeating: 7, count: (4 << 20) + 1)
        try raw.send(.upload(UploadRequest(path: "two.bin", size: UInt64(big.count))))
        guard case .partial = try raw.receive() else { Issue.record("no partial"); return }
        try raw.send(.chunk(ChunkHeader(index: 0, size: 4 << 20, sha256: Digest.hash(.sha256, Array(big[..<(4 << 20)])).hexString)))
        try raw.sendRaw(Array(big[..<(4 << 20)]))
        try raw.send(.commit(CommitRequest(contentHash: String(repeating: "0", count: 64), last: true)))
        guard case .error(let missing) = try raw.receive() else { Issue.record("no error"); return }
        #expect(missing.code == .checksumMismatch && missing.message.contains("chunks 1 are missing"), "\(missing)")
        #expect(try session.list("").entries.isEmpty, "nothing stored, the partial hidden, the session in step")
        let local = try LocalDirectory()
        try Data(big).write(to: local.file("two.bin"))
        let resumed = try server.login().upload(local.file("two.bin").path, to: "two.bin")
        #expect(resumed.resumedBytes == 4 << 20, "the verified chunk waited")
    }

    @Test func aSecondGetRFetchesOnlyWhatChanged() throws {
        let server = try TestServer()
        let tree = try TreeDownloadTests.makeTree(in: server)
        let local = try LocalDirectory()
        let session = try server.login()
        session.localDigests = LocalDigests(path: nil)

        let first = try session.downloadTree("tree", to: local.file("copy").path)
        #expect(first.files == 302 && first.unchanged == 0)
        let second = try session.downloadTree("tree", to: local.file("copy").path)
        #expect(second.files == 0 && second.unchanged == 302 && second.bytes == 0)

        try Data("new on the server\n".utf8).write(to: tree.appendingPathComponent("nested/deeper/big.bin"))
        let third = try session.downloadTree("tree", to: local.file("copy").path)
        #expect(third.files == 1 && third.unchanged == 301)
        #expect(TreeDownloadTests.contents(local.file("copy")) == TreeDownloadTests.contents(tree))
    }

    @Test func theBinaryPutsATreeIntoAnExistingDirectoryAsScpDoes() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("dest"), withIntermediateDirectories: true)
        let local = try LocalDirectory()
        try FileManager.default.createDirectory(at: local.file("docs/sub"), withIntermediateDirectories: true)
        try Data("a\n".utf8).write(to: local.file("docs/a.txt"))
        try Data("b\n".utf8).write(to: local.file("docs/sub/b.txt"))

        let outcome = try CommandLineTests().ferry(server, ["put", "-r", local.file("docs").path, "dest"])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        #expect(outcome.stderr.contains("docs/ 2/2 files"), "\(outcome.stderr)")
        #expect(try String(contentsOf: server.url("dest/docs/sub/b.txt"), encoding: .utf8) == "b\n")
        let again = try CommandLineTests().ferry(server, ["put", "-r", local.file("docs").path, "dest"])
        #expect(again.status == 0 && again.stderr.contains("2 files were unchanged"), "\(again.stderr)")
    }

    @Test func mkdirMakesParentsAndRefusesWhatIsThere() throws {
        let server = try TestServer()
        let session = try server.login()
        #expect(try session.makeDirectory("a/b/c", parents: true).kind == .directory)
        #expect(try session.makeDirectory("a/b/c", parents: true).name == "c", "-p accepts an existing directory")
        #expect(throws: ClientError.self) { try session.makeDirectory("a/b/c") }
        #expect(throws: ClientError.self) { try session.makeDirectory("x/y") } // no parents
        try Data("f".utf8).write(to: server.url("file"))
        let error = try #require(throws: ClientError.self) { try session.makeDirectory("file/sub", parents: true) }
        #expect(error.code == .notDirectory)
        let reader = try server.login("reader")
        #expect(throws: ClientError.self) { try reader.makeDirectory("nope") }
        #expect(!FileManager.default.fileExists(atPath: server.url("nope").path))
    }
}
