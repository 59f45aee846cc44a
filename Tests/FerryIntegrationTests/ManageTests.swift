#if canImport(Glibc)
import Glibc
#endif
@testable import FerryClient
import FerryCrypto
import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Feature `manage` against a real server: `rmdir`, `rm`, `rename` and `df` (docs/PROTOCOL.md 6.8 to
/// 6.11), each with what it must refuse, and `put -p` / `get -p`.
@Suite struct ManageTests {
    // MARK: the feature

    @Test func theHelloOffersManageAndAClientNeverSendsItsCommandsToAServerWithout() throws {
        let server = try TestServer()
        #expect(try server.login().offers(Hello.manageFeature))

        let old = try TestServer { $0.offersChunks = false }
        try Data("x".utf8).write(to: old.url("f"))
        let session = try old.login()
        #expect(!session.offers(Hello.manageFeature))
        let refusals: [ClientError] = [
            try #require(throws: ClientError.self) { try session.removeDirectory("d") },
            try #require(throws: ClientError.self) { try session.remove("f", recursive: false) },
            try #require(throws: ClientError.self) { try session.rename("f", to: "g", replace: false) },
            try #require(throws: ClientError.self) { try session.usage() },
        ]
        for (refusal, command) in zip(refusals, ["rmdir", "rm", "rename", "df"]) {
            #expect(refusal.code == .unsupported)
            #expect(refusal.message == "the server does not offer \(command) (an older ferryd)")
        }
        // Nothing was sent: the next answer read is the listing's own.
        #expect(try session.list("").entries.map(\.name) == ["f"])
        // A client that sends them anyway is refused, and the session goes on.
        let raw = RawClient(session)
        for message in [Message.rm(RemoveRequest(path: "f")), .rmdir(PathRequest(path: "f")), .df,
                        .rename(RenameRequest(from: "f", to: "g"))] {
            try raw.send(message)
            guard case .error(let reply) = try raw.receive() else { Issue.record("\(message.type) was not refused"); continue }
            #expect(reply.code == .unsupported && reply.message.contains("feature manage"), "\(reply)")
        }
        #expect(try old.names() == ["f"])
    }

    // MARK: rmdir

    @Test func rmdirRemovesAnEmptyDirectoryAndRefusesEverythingElse() throws {
        let server = try TestServer()
        for directory in ["empty", "full/sub", "target"] {
            try FileManager.default.createDirectory(at: server.url(directory), withIntermediateDirectories: true)
        }
        try Data("f".utf8).write(to: server.url("file"))
        try FileManager.default.createSymbolicLink(atPath: server.url("link").path, withDestinationPath: "target")
        let session = try server.login()

        try session.removeDirectory("empty")
        #expect(!FileManager.default.fileExists(atPath: server.url("empty").path))
        let refusals: [(String, ErrorCode, String)] = [
            ("full", .notEmpty, "full is not empty"),
            ("file", .notDirectory, "file is not a directory; rmdir removes only directories"),
            ("link", .notDirectory, "link is a symlink; rmdir removes only directories"),
            ("missing", .notFound, "no such file or directory: missing"),
            ("missing/deeper", .notFound, "no such directory: missing"),
            ("", .permissionDenied, "the root cannot be removed"),
            ("./", .permissionDenied, "the root cannot be removed"),
        ]
        for (path, code, message) in refusals {
            let error = try #require(throws: ClientError.self, "rmdir \(path)") { try session.removeDirectory(path) }
            #expect(error.code == code && error.message == message, "rmdir \(path): \(error.code.map { "\($0)" } ?? "-"): \(error.message)")
        }
        #expect(try server.names() == ["file", "full", "link", "target"])
        #expect(try server.names(in: "full") == ["sub"])
        let raw = RawClient(session)
        try raw.send(.rmdir(PathRequest(path: "full/sub")))
        #expect(try raw.receive() == .removed(Removed(files: 0, directories: 1, bytes: 0)))
    }

    // MARK: rm

    @Test func rmRemovesAFileOrASymlinkItselfAndADirectoryOnlyWithRecursive() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("tree/a/b"), withIntermediateDirectories: true)
        try Data("12345".utf8).write(to: server.url("tree/a/b/five"))
        try Data("123".utf8).write(to: server.url("tree/three"))
        try FileManager.default.createSymbolicLink(atPath: server.url("tree/a/link").path, withDestinationPath: "../three")
        try Data("target".utf8).write(to: server.url("target.txt"))
        try FileManager.default.createSymbolicLink(atPath: server.url("link").path, withDestinationPath: "target.txt")
        try Data("1".utf8).write(to: server.url("one"))
        #expect(mkfifo(server.url("fifo").path, 0o644) == 0)
        let session = try server.login()

        #expect(try session.remove("one", recursive: false) == Removed(files: 1, directories: 0, bytes: 1))
        #expect(try session.remove("link", recursive: false) == Removed(files: 1, directories: 0, bytes: 0))
        #expect(try String(contentsOf: server.url("target.txt"), encoding: .utf8) == "target", "the link went, not its target")
        #expect(try session.remove("fifo", recursive: true) == Removed(files: 1, directories: 0, bytes: 0), "a FIFO, never opened")

        let directory = try #require(throws: ClientError.self) { try session.remove("tree", recursive: false) }
        #expect(directory.code == .isDirectory)
        #expect(directory.message == "tree is a directory; rm removes one only with recursive (or rmdir, when it is empty)")
        let missing = try #require(throws: ClientError.self) { try session.remove("nothing", recursive: true) }
        #expect(missing.code == .notFound && missing.message == "no such file or directory: nothing")
        #expect(try server.names() == ["target.txt", "tree"])

        #expect(try session.remove("tree", recursive: true) == Removed(files: 3, directories: 3, bytes: 8))
        #expect(try server.names() == ["target.txt"])
        #expect(try session.list("").entries.map(\.name) == ["target.txt"], "the session goes on")
    }

    @Test func rmRecursiveNeverFollowsASymlinkAndNeverLeavesTheTree() throws {
        let server = try HardeningPathTests.serverWithSibling()
        let outside = server.directory.appendingPathComponent("share2")
        let outsideBefore = treeSnapshot(server.directory, excluding: ["share"])
        try FileManager.default.createDirectory(at: server.url("doomed/inner"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: server.url("kept"), withIntermediateDirectories: true)
        try Data("kept".utf8).write(to: server.url("kept/k"))
        try Data("d".utf8).write(to: server.url("doomed/inner/d"))
        // Out of the root by an absolute and a relative path, to a directory and to a file, and into
        // the root beside the tree.
        try FileManager.default.createSymbolicLink(atPath: server.url("doomed/abs").path, withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: server.url("doomed/inner/rel").path, withDestinationPath: "../../../share2/f")
        try FileManager.default.createSymbolicLink(atPath: server.url("doomed/inner/up").path, withDestinationPath: "../../../share2")
        try FileManager.default.createSymbolicLink(atPath: server.url("doomed/kept").path, withDestinationPath: "../kept")
        let session = try server.login()

        #expect(try session.remove("doomed", recursive: true) == Removed(files: 5, directories: 2, bytes: 1))
        #expect(treeSnapshot(server.directory, excluding: ["share"]) == outsideBefore, "nothing outside the root changed")
        #expect(try String(contentsOf: outside.appendingPathComponent("f"), encoding: .utf8) == HardeningPathTests.secretSibling)
        #expect(treeSnapshot(server.share) == ["kept": "dir", "kept/k": "file \(md5Hex(Array("kept".utf8)))"])
    }

    // MARK: refusals every command shares

    @Test func aReadOnlyUserIsRefusedBeforeAnythingChangesAndMayStillAskDf() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("empty"), withIntermediateDirectories: true)
        try Data("f".utf8).write(to: server.url("f"))
        let before = treeSnapshot(server.share)
        let reader = try server.login("reader")
        #expect(reader.readOnly)
        let refusals: [ClientError] = [
            try #require(throws: ClientError.self) { try reader.removeDirectory("empty") },
            try #require(throws: ClientError.self) { try reader.remove("f", recursive: false) },
            try #require(throws: ClientError.self) { try reader.remove("empty", recursive: true) },
            try #require(throws: ClientError.self) { try reader.rename("f", to: "g", replace: false) },
            try #require(throws: ClientError.self) { try reader.rename("f", to: "empty", replace: true) },
            // Read-only comes first, before the path is even looked at.
            try #require(throws: ClientError.self) { try reader.remove("../outside", recursive: true) },
            try #require(throws: ClientError.self) { try reader.rename("", to: "x", replace: false) },
        ]
        for refusal in refusals {
            #expect(refusal.code == .permissionDenied && refusal.message == "your account is read-only", "\(refusal)")
        }
        #expect(treeSnapshot(server.share) == before)
        let usage = try reader.usage()
        #expect(usage.quotaUsed == 1 && usage.quota == nil && usage.diskTotal > 0)
    }

    struct Escape: CustomTestStringConvertible, Sendable {
        let path: String
        let code: ErrorCode
        var testDescription: String { path }
    }

    @Test(arguments: [
        Escape(path: "../share2/f", code: .invalidPath),
        Escape(path: "a/../../x", code: .invalidPath),
        Escape(path: "/etc/passwd", code: .invalidPath),
        Escape(path: "..", code: .invalidPath),
        Escape(path: ".ferry-upload-0123.part", code: .invalidPath),
        Escape(path: "out/f", code: .permissionDenied),
        Escape(path: "abs/f", code: .permissionDenied),
    ])
    func aPathOutsideTheRootIsRefusedByEveryCommand(_ escape: Escape) throws {
        let server = try HardeningPathTests.serverWithSibling()
        try FileManager.default.createDirectory(at: server.url("a"), withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: server.url("mine"))
        try FileManager.default.createSymbolicLink(atPath: server.url("out").path, withDestinationPath: "../share2")
        let sibling = server.directory.appendingPathComponent("share2")
        try FileManager.default.createSymbolicLink(atPath: server.url("abs").path, withDestinationPath: sibling.path)
        let outsideBefore = treeSnapshot(server.directory, excluding: ["share"])
        let shareBefore = treeSnapshot(server.share)
        let session = try server.login()
        let attempts: [(String, () throws(ClientError) -> Void)] = [
            ("rmdir", { () throws(ClientError) in try session.removeDirectory(escape.path) }),
            ("rm", { () throws(ClientError) in _ = try session.remove(escape.path, recursive: false) }),
            ("rm -r", { () throws(ClientError) in _ = try session.remove(escape.path, recursive: true) }),
            ("rename from", { () throws(ClientError) in _ = try session.rename(escape.path, to: "stolen", replace: false) }),
            ("rename to", { () throws(ClientError) in _ = try session.rename("mine", to: escape.path, replace: true) }),
        ]
        for (name, attempt) in attempts {
            let error = try #require(throws: ClientError.self, "\(name) \(escape.path)") { try attempt() }
            #expect(error.code == escape.code, "\(name) \(escape.path): \(error)")
        }
        #expect(treeSnapshot(server.directory, excluding: ["share"]) == outsideBefore, "nothing outside the root changed")
        #expect(treeSnapshot(server.share) == shareBefore, "nothing inside it either")
    }

    @Test func theRootIsNeverRemovedRenamedOrReplaced() throws {
        let server = try TestServer()
        try Data("f".utf8).write(to: server.url("f"))
        try FileManager.default.createSymbolicLink(atPath: server.url("self").path, withDestinationPath: ".")
        let session = try server.login()
        for root in ["", ".", "./", "./."] {
            for (attempt, message) in [
                ({ () throws(ClientError) in try session.removeDirectory(root) }, "the root cannot be removed"),
                ({ () throws(ClientError) in _ = try session.remove(root, recursive: true) }, "the root cannot be removed"),
                ({ () throws(ClientError) in _ = try session.rename(root, to: "moved", replace: false) }, "the root cannot be renamed"),
                ({ () throws(ClientError) in _ = try session.rename("f", to: root, replace: true) }, "the root cannot be replaced"),
            ] as [(() throws(ClientError) -> Void, String)] {
                let error = try #require(throws: ClientError.self) { try attempt() }
                #expect(error.code == .permissionDenied && error.message == message, "\(root.debugDescription): \(error)")
            }
        }
        // A symlink to the root is an entry like any other: rm removes the link, never what it names.
        #expect(try session.remove("self", recursive: true) == Removed(files: 1, directories: 0, bytes: 0))
        #expect(try server.names() == ["f"])
    }

    // MARK: uploads in the way

    @Test func rmRefusesBusyWhileAnUploadIntoTheDirectoryIsInFlightAndRemovesNothing() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("dir/deeper"), withIntermediateDirectories: true)
        try Data("old".utf8).write(to: server.url("dir/old.txt"))
        let uploader = RawClient(try server.login())
        let body = Array("hello".utf8)
        try uploader.send(.upload(UploadRequest(path: "dir/deeper/new.bin", size: UInt64(body.count))))
        guard case .partial = try uploader.receive() else { Issue.record("no partial"); return }
        let before = treeSnapshot(server.share)
        let session = try server.login()

        let busy = try #require(throws: ClientError.self) { try session.remove("dir", recursive: true) }
        #expect(busy.code == .busy && busy.message == "dir/deeper: an upload into it is in progress; nothing was removed", "\(busy)")
        let busyDirectory = try #require(throws: ClientError.self) { try session.removeDirectory("dir/deeper") }
        #expect(busyDirectory.code == .busy, "\(busyDirectory)")
        #expect(treeSnapshot(server.share) == before)

        // The upload goes on undisturbed; then the tree can go.
        try uploader.send(.chunk(ChunkHeader(index: 0, size: body.count, sha256: Digest.hash(.sha256, body).hexString)))
        try uploader.sendRaw(body)
        try uploader.send(.commit(CommitRequest(contentHash: ContentHash.of([Digest.hash(.sha256, body)]).hexString)))
        guard case .stored = try uploader.receive() else { Issue.record("the upload was not stored"); return }
        #expect(try session.remove("dir", recursive: true) == Removed(files: 2, directories: 2, bytes: 8))
        #expect(try server.names().isEmpty)
    }

    @Test func rmRefusesBusyWhileAPutIntoTheDirectoryIsInFlight() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("dir"), withIntermediateDirectories: true)
        let putter = RawClient(try server.login())
        let body = Array("hello".utf8)
        try putter.send(.put(PutRequest(path: "dir/p.txt", size: UInt64(body.count), md5: md5Hex(body))))
        #expect(try putter.receive() == .ready)
        let session = try server.login()
        let busy = try #require(throws: ClientError.self) { try session.remove("dir", recursive: true) }
        #expect(busy.code == .busy, "\(busy)")
        try putter.sendRaw(body)
        guard case .stored = try putter.receive() else { Issue.record("the put was not stored"); return }
        #expect(try Data(contentsOf: server.url("dir/p.txt")) == Data(body))
        #expect(try session.remove("dir", recursive: true) == Removed(files: 1, directories: 1, bytes: 5))
    }

    @Test func theIdlePartialOfAnInterruptedUploadGoesWithItsDirectoryAndGivesItsRoomBack() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("dir"), withIntermediateDirectories: true)
        try Data("12".utf8).write(to: server.url("kept"))
        let cut = RawClient(try server.login())
        let body = [UInt8](try randomBytes(1000))
        try cut.send(.upload(UploadRequest(path: "dir/cut.bin", size: 3000)))
        guard case .partial = try cut.receive() else { Issue.record("no partial"); return }
        try cut.send(.chunk(ChunkHeader(index: 0, size: 3000, sha256: Digest.hash(.sha256, body + body + body).hexString)))
        try cut.sendRaw(body + body + body)
        cut.session.channel.socket.close()
        try waitUntil { server.server.connectionCount == 0 }
        #expect(try server.names(in: "dir").count == 2, "the partial and its record wait, hidden")

        let session = try server.login()
        #expect(try session.list("dir").entries.isEmpty)
        #expect(try session.usage().quotaUsed == 3002, "the partial counts at its full size")
        let notRecursive = try #require(throws: ClientError.self) { try session.remove("dir", recursive: false) }
        #expect(notRecursive.code == .isDirectory, "looking empty does not make a directory a file")
        let local = try LocalDirectory()
        try Data("v".utf8).write(to: local.file("visible"))
        _ = try session.upload(local.file("visible").path, to: "dir/visible")
        let notEmpty = try #require(throws: ClientError.self) { try session.removeDirectory("dir") }
        #expect(notEmpty.code == .notEmpty)
        #expect(try server.names(in: "dir").count == 3, "nothing went, the hidden files neither")
        _ = try session.remove("dir/visible", recursive: false)
        try session.removeDirectory("dir")
        #expect(try server.names() == ["kept"])
        #expect(try session.usage().quotaUsed == 2, "its room is given back")
    }

    // MARK: quota

    @Test func rmGivesTheQuotaBackSoALaterPutFits() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        try randomBytes(700_000).write(to: local.file("a.bin"))
        try randomBytes(500_000).write(to: local.file("b.bin"))
        let limited = try server.login("limited")
        _ = try limited.upload(local.file("a.bin").path, to: "a.bin")
        let refused = try #require(throws: ClientError.self) { try limited.upload(local.file("b.bin").path, to: "b.bin") }
        #expect(refused.code == .tooLarge)

        #expect(try limited.remove("a.bin", recursive: false) == Removed(files: 1, directories: 0, bytes: 700_000))
        _ = try limited.upload(local.file("b.bin").path, to: "b.bin")
        let usage = try limited.usage()
        #expect(usage.quotaUsed == 500_000 && usage.quota == TestServer.limitedQuota)

        // A rename over a file gives that file's bytes back too; the renamed file still counts.
        try Data(count: 100_000).write(to: local.file("c.bin"))
        _ = try limited.upload(local.file("c.bin").path, to: "c.bin")
        #expect(try limited.usage().quotaUsed == 600_000)
        _ = try limited.rename("c.bin", to: "b.bin", replace: true)
        #expect(try limited.usage().quotaUsed == 100_000)
        #expect(try server.names() == ["b.bin"])
    }

    // MARK: rename

    @Test func renameMovesAtomicallyAndReplacesOnlyWhenAsked() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("dir"), withIntermediateDirectories: true)
        try Data("draft".utf8).write(to: server.url("draft.txt"))
        try Data("other text".utf8).write(to: server.url("dir/final.txt"))
        let session = try server.login()

        let moved = try session.rename("draft.txt", to: "dir/draft2.txt", replace: false)
        #expect(moved.name == "draft2.txt" && moved.kind == .file && moved.size == 5 && moved.mode != nil)
        #expect(try server.names() == ["dir"])

        let taken = try #require(throws: ClientError.self) { try session.rename("dir/draft2.txt", to: "dir/final.txt", replace: false) }
        #expect(taken.code == .alreadyExists && taken.message == "dir/final.txt exists already (rename with replace to replace it)")
        #expect(try String(contentsOf: server.url("dir/final.txt"), encoding: .utf8) == "other text")
        let usedBefore = try session.usage().quotaUsed

        let replaced = try session.rename("dir/draft2.txt", to: "dir/final.txt", replace: true)
        #expect(replaced.name == "final.txt" && replaced.size == 5)
        #expect(try String(contentsOf: server.url("dir/final.txt"), encoding: .utf8) == "draft")
        #expect(try server.names(in: "dir") == ["final.txt"])
        #expect(try session.usage().quotaUsed == usedBefore - 10, "the replaced file's bytes are given back")

        // A directory moves with everything in it.
        try FileManager.default.createDirectory(at: server.url("dir/sub"), withIntermediateDirectories: true)
        #expect(try session.rename("dir", to: "renamed", replace: false).kind == .directory)
        #expect(treeSnapshot(server.share) == ["renamed": "dir", "renamed/sub": "dir", "renamed/final.txt": "file \(md5Hex(Array("draft".utf8)))"])
    }

    @Test func renameRefusesWhatRenameCannotDo() throws {
        let server = try TestServer()
        for directory in ["a/b", "full/x", "empty"] {
            try FileManager.default.createDirectory(at: server.url(directory), withIntermediateDirectories: true)
        }
        try Data("f".utf8).write(to: server.url("file"))
        let before = treeSnapshot(server.share)
        let session = try server.login()
        let refusals: [(String, String, Bool, ErrorCode, String)] = [
            ("a", "a/b/a", false, .invalidPath, "a cannot be moved into itself (a/b/a)"),
            ("a", "a/c", true, .invalidPath, "a cannot be moved into itself (a/c)"),
            ("a", "file", true, .notDirectory, "file is not a directory; a directory can replace only an empty directory"),
            ("file", "empty", true, .isDirectory, "empty is a directory; only a directory can replace it"),
            ("a", "full", true, .notEmpty, "full is a directory that is not empty"),
            ("missing", "x", false, .notFound, "no such file or directory: missing"),
            ("file", "nowhere/file", false, .notFound, "no such directory: nowhere"),
            ("file", "file/inside", false, .notDirectory, "file is not a directory"),
            ("file", "file", false, .alreadyExists, "file exists already (rename with replace to replace it)"),
        ]
        for (from, to, replace, code, message) in refusals {
            let error = try #require(throws: ClientError.self, "\(from) -> \(to)") { try session.rename(from, to: to, replace: replace) }
            #expect(error.code == code && error.message == message, "\(from) -> \(to): \(error)")
        }
        #expect(treeSnapshot(server.share) == before)
        // The same entry with replace: nothing changes; an empty directory can be replaced by one.
        #expect(try session.rename("file", to: "file", replace: true).name == "file")
        #expect(try session.rename("a", to: "empty", replace: true).kind == .directory)
        #expect(try server.names() == ["empty", "file", "full"])
        #expect(try server.names(in: "empty") == ["b"])
    }

    @Test func aSymlinkIsRenamedOrReplacedItselfNeverThroughIt() throws {
        let server = try HardeningPathTests.serverWithSibling()
        try Data("victim".utf8).write(to: server.url("victim.txt"))
        try Data("new".utf8).write(to: server.url("new.txt"))
        try FileManager.default.createSymbolicLink(atPath: server.url("link").path, withDestinationPath: "victim.txt")
        let sibling = server.directory.appendingPathComponent("share2/f")
        try FileManager.default.createSymbolicLink(atPath: server.url("outlink").path, withDestinationPath: sibling.path)
        let outsideBefore = treeSnapshot(server.directory, excluding: ["share"])
        let session = try server.login()

        let taken = try #require(throws: ClientError.self) { try session.rename("new.txt", to: "link", replace: false) }
        #expect(taken.code == .alreadyExists)
        let replaced = try session.rename("new.txt", to: "link", replace: true)
        #expect(replaced.kind == .file && replaced.name == "link")
        #expect(try String(contentsOf: server.url("victim.txt"), encoding: .utf8) == "victim", "the link's target is untouched")
        #expect(treeSnapshot(server.share)["link"] == "file \(md5Hex(Array("new".utf8)))")

        // A link leading out of the root is moved as a link; nothing outside is reached.
        let movedLink = try session.rename("outlink", to: "renamed-link", replace: false)
        #expect(movedLink.kind == .symlink && movedLink.name == "renamed-link")
        _ = try session.rename("victim.txt", to: "renamed-link", replace: true)
        #expect(treeSnapshot(server.directory, excluding: ["share"]) == outsideBefore)
        #expect(try String(contentsOf: sibling, encoding: .utf8) == HardeningPathTests.secretSibling)
    }

    @Test func aRenamedFileKeepsItsDigestsAndARemovedThenRecreatedOneIsNeverServedStaleOnes() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        let first = [UInt8](try randomBytes(4096))
        let second = [UInt8](try randomBytes(4096))
        let time = Date(timeIntervalSince1970: 1_600_000_000)
        for (name, bytes) in [("first", first), ("second", second)] {
            try Data(bytes).write(to: local.file(name))
            try FileManager.default.setAttributes([.modificationDate: time], ofItemAtPath: local.file(name).path)
        }
        let session = try server.login()
        let preserve = TransferOptions(preserve: true)
        let hash = { (bytes: [UInt8]) in ContentHash.of([Digest.hash(.sha256, bytes)]).hexString }

        _ = try session.upload(local.file("first").path, to: "a.bin", options: preserve)
        #expect(try session.stat("a.bin").contentHash == hash(first))
        _ = try session.rename("a.bin", to: "b.bin", replace: false)
        #expect(try session.stat("b.bin").contentHash == hash(first), "digests belong to the file, not its name")
        let raw = try HardConnection.loggedIn(server)
        #expect(try raw.get("b.bin").header.md5 == md5Hex(first), "a get computes the MD5 and keeps it")

        // What the server knows of the file, by its device, inode, size and time, goes with it.
        let share = try File.openDirectory(path: server.share.path)
        let status = try FileStatus.of("b.bin", in: share)
        // (A get keeps the MD5 there when the manifest has none yet; here it may already have one.)
        server.server.digests.store(md5Hex(first), for: status)
        #expect(server.server.manifests.cached("b.bin", in: share, status: status) != nil)
        _ = try session.remove("b.bin", recursive: false)
        #expect(server.server.digests.lookup(status) == nil)
        #expect(server.server.manifests.cached("b.bin", in: share, status: status) == nil)

        // Same size, same preserved time, maybe the same inode: a new file all the same.
        _ = try session.upload(local.file("second").path, to: "b.bin", options: preserve)
        #expect(try session.stat("b.bin").contentHash == hash(second))
        #expect(try session.stat("b.bin").mtime == 1_600_000_000)
        let again = try raw.get("b.bin")
        #expect(again.header.md5 == md5Hex(second) && again.body == second)
        let back = try LocalDirectory()
        _ = try session.download("b.bin", to: LocalDestination(directory: back.path, name: "b.bin"))
        #expect(try Data(contentsOf: back.file("b.bin")) == Data(second))
    }

    // MARK: df

    @Test func dfReportsTheLedgersCountTheQuotaAndTheDisk() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("d"), withIntermediateDirectories: true)
        try Data(count: 1000).write(to: server.url("d/a"))
        try Data(count: 234).write(to: server.url("b"))
        try FileManager.default.createSymbolicLink(atPath: server.url("link").path, withDestinationPath: "d/a")
        let alice = try server.login()
        let usage = try alice.usage()
        #expect(usage.quotaUsed == 1234, "regular files; a symlink is not followed")
        #expect(usage.quota == nil)
        let settings = server.server.settings
        let aliceRecord = try #require(settings.users["alice"])
        let root = try #require(settings.root(for: aliceRecord))
        #expect(try server.server.quotas.used(in: root) == usage.quotaUsed)
        var st = statvfs()
        #expect(statvfs(server.share.path, &st) == 0)
        #expect(usage.diskTotal == UInt64(st.f_blocks) * UInt64(st.f_frsize) && usage.diskTotal > 0)
        #expect(usage.diskFree > 0 && usage.diskFree <= usage.diskTotal)

        let limited = try server.login("limited").usage()
        #expect(limited.quota == TestServer.limitedQuota && limited.quotaUsed == 1234, "one root, one count")
        let local = try LocalDirectory()
        try Data(count: 66).write(to: local.file("c"))
        _ = try alice.upload(local.file("c").path, to: "c")
        #expect(try alice.usage().quotaUsed == 1300, "kept up to date by the server's own changes")
    }

    // MARK: put -p and get -p

    @Test(arguments: [true, false])
    func getPKeepsTheModificationTimeAndThePermissionBits(chunked: Bool) throws {
        let server = try TestServer { $0.offersChunks = chunked }
        try Data("some text\n".utf8).write(to: server.url("m.txt"))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000_000),
                                               .posixPermissions: 0o4750], ofItemAtPath: server.url("m.txt").path)
        let session = try server.login()
        #expect(session.chunked == chunked)
        #expect(try session.stat("m.txt").mode == 0o4750)
        let local = try LocalDirectory()

        _ = try session.download("m.txt", to: LocalDestination(directory: local.path, name: "kept.txt"), options: TransferOptions(preserve: true))
        let kept = try FileManager.default.attributesOfItem(atPath: local.file("kept.txt").path)
        #expect((kept[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_000_000_000)
        #expect(kept[.posixPermissions] as? Int == 0o750, "0777 bits only: never set-user-ID from a server")

        _ = try session.download("m.txt", to: LocalDestination(directory: local.path, name: "plain.txt"))
        let plain = try FileManager.default.attributesOfItem(atPath: local.file("plain.txt").path)
        #expect(((plain[.modificationDate] as? Date)?.timeIntervalSinceNow ?? -1000) > -600, "without -p: the time of the download")
        #expect(plain[.posixPermissions] as? Int == 0o644 & ~processUmask())
        #expect(try Data(contentsOf: local.file("kept.txt")) == Data(contentsOf: local.file("plain.txt")))
    }

    @Test func putPKeepsTheModificationTimeWhereTheServerOffersManage() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        try randomBytes(5 << 20).write(to: local.file("big.bin"))
        try Data("small".utf8).write(to: local.file("small.txt"))
        for name in ["big.bin", "small.txt"] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_234_567_890)], ofItemAtPath: local.file(name).path)
        }
        let session = try server.login()
        _ = try session.upload(local.file("big.bin").path, to: "big.bin", options: TransferOptions(preserve: true))
        _ = try session.upload(local.file("small.txt").path, to: "small.txt", options: TransferOptions(preserve: true))
        _ = try session.upload(local.file("small.txt").path, to: "now.txt")
        #expect(try session.stat("big.bin").mtime == 1_234_567_890)
        #expect(try session.stat("small.txt").mtime == 1_234_567_890)
        #expect(try session.stat("now.txt").mtime > 1_700_000_000, "without -p: the time of the upload")
        #expect(try Data(contentsOf: server.url("big.bin")) == Data(contentsOf: local.file("big.bin")))

        // The protocol-1 put carries it as well.
        let raw = RawClient(session)
        let body = Array("put".utf8)
        try raw.send(.put(PutRequest(path: "put.txt", size: 3, md5: md5Hex(body), mtime: -86_400)))
        #expect(try raw.receive() == .ready)
        try raw.sendRaw(body)
        guard case .stored = try raw.receive() else { Issue.record("not stored"); return }
        #expect(try session.stat("put.txt").mtime == -86_400)

        // A server without manage is never sent the time; the user is told.
        let old = try TestServer { $0.offersChunks = false }
        let notices = Lines()
        let oldSession = try old.login()
        oldSession.notices = notices.append
        _ = try oldSession.upload(local.file("small.txt").path, to: "small.txt", options: TransferOptions(preserve: true))
        #expect(try oldSession.stat("small.txt").mtime > 1_700_000_000)
        #expect(notices.all == ["the server cannot keep modification times (an older ferryd); what is put gets the time of its upload"])
    }

    @Test func treesKeepTimesAndModesWithPreserveBothWays() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        try FileManager.default.createDirectory(at: local.file("tree/sub"), withIntermediateDirectories: true)
        try Data("a".utf8).write(to: local.file("tree/a"))
        try randomBytes(5 << 20).write(to: local.file("tree/sub/big"))
        for (name, seconds) in [("tree/a", 1_100_000_000), ("tree/sub/big", 1_200_000_000)] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: TimeInterval(seconds))], ofItemAtPath: local.file(name).path)
        }
        let session = try server.login()
        let up = try session.uploadTree(local.file("tree").path, to: "tree", options: TransferOptions(preserve: true))
        #expect(up.files == 2 && up.failures.isEmpty)
        #expect(try session.stat("tree/a").mtime == 1_100_000_000)
        #expect(try session.stat("tree/sub/big").mtime == 1_200_000_000)

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: server.url("tree/a").path)
        let back = try LocalDirectory()
        let down = try session.downloadTree("tree", to: back.file("copy").path, options: TransferOptions(preserve: true))
        #expect(down.files == 2 && down.failures.isEmpty, "\(down.failures)")
        let a = try FileManager.default.attributesOfItem(atPath: back.file("copy/a").path)
        #expect((a[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_100_000_000)
        #expect(a[.posixPermissions] as? Int == 0o600)
        let big = try FileManager.default.attributesOfItem(atPath: back.file("copy/sub/big").path)
        #expect((big[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_200_000_000)
    }
}
