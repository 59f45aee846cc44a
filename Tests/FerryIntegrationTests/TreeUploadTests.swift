@testable import FerryClient
import FerryCrypto
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
