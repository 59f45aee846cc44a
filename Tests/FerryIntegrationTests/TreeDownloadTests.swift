import FerryClient
import FerryCrypto
import Foundation
import Testing

/// `get -r`: a whole directory over one connection, pipelined, every file verified, committed in batches.
@Suite struct TreeDownloadTests {
    /// share/tree: top.txt, many/ (300 files: more than the pipeline depth and a commit batch),
    /// nested/deeper/big.bin (larger than a chunk), empty/, and link -> top.txt.
    static func makeTree(in server: TestServer) throws -> URL {
        let tree = server.url("tree")
        let manager = FileManager.default
        for directory in ["many", "nested/deeper", "empty"] {
            try manager.createDirectory(at: tree.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try Data("top\n".utf8).write(to: tree.appendingPathComponent("top.txt"))
        for index in 0..<300 {
            try randomBytes(index % 7 == 0 ? 0 : 100 + index * 13).write(to: tree.appendingPathComponent("many/f\(index)"))
        }
        try randomBytes(1 << 20).write(to: tree.appendingPathComponent("nested/deeper/big.bin"))
        try manager.createSymbolicLink(atPath: tree.appendingPathComponent("link").path, withDestinationPath: "top.txt")
        return tree
    }

    /// Relative path → MD5 of every regular file under `url`, and every directory as "dir".
    static func contents(_ url: URL) -> [String: String] {
        treeSnapshot(url).filter { !$0.value.hasPrefix("link") }
    }

    @Test func copiesTheWholeTreeAndLeavesOutSymlinks() throws {
        let server = try TestServer()
        let tree = try Self.makeTree(in: server)
        let local = try LocalDirectory()
        let session = try server.login()

        let result = try session.downloadTree("tree", to: local.file("copy").path)
        #expect(result.failures.isEmpty, "\(result.failures)")
        #expect(result.files == 302)
        #expect(result.skipped == [local.file("copy").path + "/link"])
        #expect(Self.contents(local.file("copy")) == Self.contents(tree), "the copy has the same files, bytes and directories")
        #expect(temporaryDownloads(under: local.url).isEmpty)
        #expect(try session.list("tree").entries.count == 5, "the session goes on after the pipeline")
    }

    @Test func aFileRefusedMidPipelineIsReportedAndTheRestArrive() throws {
        let server = try TestServer()
        let tree = try Self.makeTree(in: server)
        let local = try LocalDirectory()
        let session = try server.login()
        // Listed, then removed before its get is sent: the server answers not_found in the middle of the pipeline.
        let victim = tree.appendingPathComponent("many/f150")
        let progress = OnBegin { try? FileManager.default.removeItem(at: victim) }

        let result = try session.downloadTree("tree", to: local.file("copy").path, progress: progress)
        #expect(result.files == 301)
        #expect(result.failures.count == 1)
        #expect(result.failures.first?.hasPrefix(local.file("copy").path + "/many/f150: ") == true, "\(result.failures)")
        #expect(Self.contents(local.file("copy")) == Self.contents(tree), "every other file arrived whole")
        #expect(temporaryDownloads(under: local.url).isEmpty)
    }

    @Test func aFileThatCannotBeSavedLocallyFailsAloneAndLeavesNothingBehind() throws {
        let server = try TestServer()
        let tree = try Self.makeTree(in: server)
        let local = try LocalDirectory()
        // Where many/f10 should land, a directory stands: the rename fails for that file only.
        try FileManager.default.createDirectory(at: local.file("copy/many/f10"), withIntermediateDirectories: true)
        let session = try server.login()

        let result = try session.downloadTree("tree", to: local.file("copy").path)
        #expect(result.files == 301)
        #expect(result.failures.count == 1 && result.failures[0].contains("many/f10"), "\(result.failures)")
        var expected = Self.contents(tree)
        expected["many/f10"] = "dir"
        #expect(Self.contents(local.file("copy")) == expected)
        #expect(temporaryDownloads(under: local.url).isEmpty)
    }

    @Test func filesWaitingForACommitAreSavedBeforeALargeBodyStarts() throws {
        let server = try TestServer()
        let tree = server.url("mixed")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for index in 0..<10 { try randomBytes(1000).write(to: tree.appendingPathComponent("a\(index)")) }
        try randomBytes(20 << 20).write(to: tree.appendingPathComponent("z.bin"))
        let local = try LocalDirectory()
        let copy = local.file("copy")
        // While z.bin arrives, the ten small files must already be under their names: an interruption
        // now would not lose them.
        let seenDuringBigBody = Locked<[String]?>(nil)
        let progress = OnUpdate { done in
            guard done > 10_000 + (1 << 20), seenDuringBigBody.current == nil else { return }
            seenDuringBigBody.withLock { $0 = (try? FileManager.default.contentsOfDirectory(atPath: copy.path))?.sorted() }
        }
        let result = try server.login().downloadTree("mixed", to: copy.path, progress: progress)
        #expect(result.files == 11)
        let seen = try #require(seenDuringBigBody.current)
        #expect(seen.filter { !$0.hasPrefix(".") } == (0..<10).map { "a\($0)" })
        #expect(seen.filter { $0.hasPrefix(".") } == [".z.bin.ferrypart", ".z.bin.ferrypart.chunks"], "the large file arrives in its resumable partial")
    }

    @Test func theBinaryCopiesIntoAnExistingDirectoryAsScpDoes() throws {
        let server = try TestServer()
        let tree = try Self.makeTree(in: server)
        let local = try LocalDirectory()
        let outcome = try CommandLineTests().ferry(server, ["get", "-r", "tree", local.path])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        #expect(Self.contents(local.file("tree")) == Self.contents(tree))
        #expect(outcome.stderr.contains("tree/ 302/302 files") && outcome.stderr.contains("SHA-256 verified"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("tree/link: not a regular file or directory"), "\(outcome.stderr)")

        let missing = try CommandLineTests().ferry(server, ["get", "-r", "no-such-dir", local.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file or directory on the server"), "\(missing.stderr)")
    }
}

/// Runs an action when a transfer begins, and otherwise draws nothing.
final class OnBegin: TransferProgress {
    private let action: () -> Void
    init(_ action: @escaping () -> Void) { self.action = action }
    func begin(name: String, total: UInt64, phase: String) { action() }
    func update(done: UInt64) {}
    func finish(name: String, bytes: UInt64, seconds: Double) {}
    func abandon() {}
}

/// Calls back with the bytes done on every progress update.
final class OnUpdate: TransferProgress {
    private let action: (UInt64) -> Void
    init(_ action: @escaping (UInt64) -> Void) { self.action = action }
    func begin(name: String, total: UInt64, phase: String) {}
    func update(done: UInt64) { action(done) }
    func finish(name: String, bytes: UInt64, seconds: Double) {}
    func abandon() {}
}

/// Hidden `.NAME.ferry-XXXX.part` and `.NAME.ferrypart` files of downloads anywhere under `url`.
func temporaryDownloads(under url: URL) -> [String] {
    treeSnapshot(url).keys.filter { $0.hasSuffix(".part") || $0.contains(".ferrypart") }.sorted()
}
