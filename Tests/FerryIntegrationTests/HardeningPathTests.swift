#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Paths that try to leave the root, and special files inside it. The test server's directory holds
/// `share/` (the root), `config.ini` (a secret) and here also `share2/f`, a sibling of the root.
@Suite struct HardeningPathTests {
    static let secretSibling = "sibling secret\n"

    /// A server with `<dir>/share2/f` next to its share.
    static func serverWithSibling() throws -> TestServer {
        let server = try TestServer()
        let sibling = server.directory.appendingPathComponent("share2")
        try FileManager.default.createDirectory(at: sibling, withIntermediateDirectories: true)
        try Data(secretSibling.utf8).write(to: sibling.appendingPathComponent("f"))
        return server
    }

    struct HostilePath: CustomTestStringConvertible, Sendable {
        let label: String
        let path: String
        var testDescription: String { label }
        init(_ label: String, _ path: String) {
            self.label = label
            self.path = path
        }
        init(_ path: String) { self.init(path.debugDescription, path) }
    }

    static let hostilePaths: [HostilePath] = [
        HostilePath(".."),
        HostilePath("a/../../x"),
        HostilePath("../config.ini"),
        HostilePath("/etc/passwd"),
        HostilePath(#"C:\x"#),
        HostilePath(#"\\host\share"#),
        HostilePath(#"..\..\x"#),
        HostilePath("../share2/f"),
        HostilePath("%2e%2e/config.ini"),
        HostilePath("．．/config.ini"),
        HostilePath("a\u{0}b"),
        HostilePath(""),
        HostilePath("."),
        HostilePath("./"),
        HostilePath("300-byte name", String(repeating: "n", count: 300)),
        HostilePath("5000 components", Array(repeating: "a", count: 5000).joined(separator: "/")),
        HostilePath("300 components", Array(repeating: "a", count: 300).joined(separator: "/")),
        HostilePath("name with SOH", "a\u{1}b"),
        HostilePath("name with newline", "new\nline"),
        HostilePath("name with ESC", "\u{1b}[2J"),
        HostilePath("name with DEL", "x\u{7f}"),
        HostilePath("./../config.ini"),
        HostilePath("a//..//../config.ini"),
        HostilePath("reserved temporary name", ".ferry-upload-0123.part"),
        // Names that only look like ".."; these are legal and must be taken literally, inside the root.
        HostilePath("..."),
        HostilePath(" .."),
        HostilePath("..a"),
    ]

    @Test(arguments: hostilePaths)
    func aHostilePathIsRefusedOrStaysInsideTheRoot(_ hostile: HostilePath) throws {
        let server = try Self.serverWithSibling()
        try FileManager.default.createDirectory(at: server.url("a"), withIntermediateDirectories: true)
        let outsideBefore = treeSnapshot(server.directory, excluding: ["share"])
        let shareBefore = treeSnapshot(server.share)
        let connection = try HardConnection.loggedIn(server)
        let secrets = [Array(Self.secretSibling.utf8), Array("secret = do-not-leak\n".utf8)]

        // get: never a file here (none of these names exists inside the root).
        do {
            let (header, body) = try connection.get(hostile.path)
            Issue.record("get \(hostile.label) sent \(header) (\(secrets.contains(body) ? "A SECRET FROM OUTSIDE THE ROOT" : "\(body.count) bytes"))")
        } catch let reply as ErrorReply {
            #expect(hardRefusalCodes.contains(reply.code), "get: \(reply.code) \(reply.message)")
        }

        // put: refused, or stored literally inside the root. An absolute path is aimed at the test's own
        // directory rather than at /etc: a failure must not damage the machine.
        let putPath = hostile.path.hasPrefix("/") ? server.directory.appendingPathComponent("abs-put").path : hostile.path
        let answer = try connection.put(putPath, Array("evil".utf8))
        switch answer {
        case .error(let reply):
            #expect(hardRefusalCodes.contains(reply.code), "put: \(reply.code) \(reply.message)")
        case .stored(let stored):
            let created = Set(treeSnapshot(server.share).keys).subtracting(shareBefore.keys)
            #expect(created.contains(stored.path), "stored as \(stored.path), but the share gained \(created)")
        default:
            Issue.record("put: unexpected \(answer)")
        }

        // ls: refused, or a listing of something inside the root.
        do {
            let listing = try connection.list(hostile.path)
            let insideNames = Set(treeSnapshot(server.share).keys.filter { !$0.contains("/") })
            #expect(Set(listing.entries.map(\.name)).isSubset(of: insideNames), "ls listed \(listing.entries.map(\.name))")
        } catch let reply as ErrorReply {
            #expect(hardRefusalCodes.contains(reply.code), "ls: \(reply.code) \(reply.message)")
        }

        #expect(treeSnapshot(server.directory, excluding: ["share"]) == outsideBefore, "nothing outside the root was created or changed")
        #expect(temporaryFiles(under: server.directory).isEmpty)
        #expect(try connection.list("").entries.map(\.name).contains("a"), "the session goes on")
    }

    @Test func symlinksLeadingOutsideAreNeverFollowed() throws {
        let server = try Self.serverWithSibling()
        let sibling = server.directory.appendingPathComponent("share2")
        let manager = FileManager.default
        try manager.createDirectory(at: server.url("sub"), withIntermediateDirectories: true)
        let links: [(String, String)] = [
            ("file-abs", sibling.appendingPathComponent("f").path),
            ("file-rel", "../share2/f"),
            ("dir-abs", sibling.path),
            ("dir-rel", "../share2"),
            ("sub/deep", "../../share2"),
            ("config", "../config.ini"),
            ("dangling-rel", "../share2/created-through-link"),
            ("dangling-abs", sibling.appendingPathComponent("created-through-abs-link").path),
            ("dangling-dir", "../share3"),
            ("root-link", "/"),
        ]
        for (name, target) in links {
            try manager.createSymbolicLink(atPath: server.url(name).path, withDestinationPath: target)
        }
        let outsideBefore = treeSnapshot(server.directory, excluding: ["share"])
        let connection = try HardConnection.loggedIn(server)

        for path in ["file-abs", "file-rel", "dir-abs/f", "dir-rel/f", "sub/deep/f", "config", "root-link/etc/passwd", "dangling-rel"] {
            do {
                let (_, body) = try connection.get(path)
                Issue.record("get \(path) was served \(body.count) bytes from outside the root")
            } catch let reply as ErrorReply {
                #expect(reply.code == .permissionDenied, "get \(path): \(reply.code) \(reply.message)")
            }
        }
        for path in ["file-abs", "file-rel", "dir-abs/new", "dir-rel/new", "sub/deep/new", "dir-rel/f", "dangling-rel", "dangling-abs",
                     "dangling-dir/new", "root-link/tmp/ferry-escaped"] {
            let answer = try connection.put(path, Array("overwritten".utf8))
            #expect(errorCode(answer) == .permissionDenied, "put \(path): \(answer)")
        }
        for path in ["dir-abs", "dir-rel", "sub/deep", "root-link", "root-link/etc", "dangling-dir"] {
            do {
                let listing = try connection.list(path)
                Issue.record("ls \(path) listed \(listing.entries.map(\.name)) outside the root")
            } catch let reply as ErrorReply {
                #expect(reply.code == .permissionDenied, "ls \(path): \(reply.code) \(reply.message)")
            }
        }
        #expect(treeSnapshot(server.directory, excluding: ["share"]) == outsideBefore, "nothing outside was written")
        #expect(!manager.fileExists(atPath: "/tmp/ferry-escaped"))
        #expect(temporaryFiles(under: server.directory).isEmpty)
        #expect(try connection.list("sub").entries.map(\.name) == ["deep"], "the session goes on")
    }

    @Test func putOntoSpecialFilesIsRefusedWithoutBlocking() throws {
        let server = try TestServer()
        let manager = FileManager.default
        try Data("target".utf8).write(to: server.url("target.txt"))
        try manager.createSymbolicLink(atPath: server.url("link").path, withDestinationPath: "target.txt")
        try manager.createSymbolicLink(atPath: server.url("dangling").path, withDestinationPath: "nowhere.txt")
        try manager.createDirectory(at: server.url("dir"), withIntermediateDirectories: true)
        #expect(mkfifo(server.url("fifo").path, 0o644) == 0)
        // Should the server ever block on the FIFO, opening it read-write here lets that open return.
        defer {
            let fd = open(server.url("fifo").path, O_RDWR | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        let before = treeSnapshot(server.share)
        let connection = try HardConnection.loggedIn(server)
        let started = ContinuousClock.now
        let expectations: [(String, ErrorCode)] = [
            ("link", .permissionDenied), ("dangling", .permissionDenied), ("dir", .isDirectory), ("fifo", .permissionDenied),
            ("dir/", .isDirectory), ("link/x", .notDirectory),
        ]
        for (path, code) in expectations {
            let answer = try connection.put(path, Array("replacement".utf8), timeout: .seconds(3))
            #expect(errorCode(answer) == code, "put \(path): \(answer)")
        }
        #expect(ContinuousClock.now - started < .seconds(3), "refusals are immediate")
        #expect(treeSnapshot(server.share) == before, "the link's target, the directory and the FIFO are untouched")
        #expect(!manager.fileExists(atPath: server.url("nowhere.txt").path), "the dangling link's target was not created")
    }

    @Test func getOfAFIFOADeviceOrADirectoryIsRefusedWithoutBlocking() throws {
        let server = try TestServer()
        #expect(mkfifo(server.url("fifo").path, 0o644) == 0)
        defer {
            let fd = open(server.url("fifo").path, O_RDWR | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        try FileManager.default.createSymbolicLink(atPath: server.url("null").path, withDestinationPath: "/dev/null")
        try FileManager.default.createSymbolicLink(atPath: server.url("zero").path, withDestinationPath: "/dev/zero")
        try FileManager.default.createSymbolicLink(atPath: server.url("fifo-link").path, withDestinationPath: "fifo")
        try FileManager.default.createDirectory(at: server.url("dir"), withIntermediateDirectories: true)
        let connection = try HardConnection.loggedIn(server)
        let started = ContinuousClock.now
        for (path, code) in [("fifo", ErrorCode.permissionDenied), ("fifo-link", .permissionDenied), ("null", .permissionDenied),
                             ("zero", .permissionDenied), ("dir", .isDirectory)] {
            do {
                let (header, _) = try connection.get(path, timeout: .seconds(3))
                Issue.record("get \(path) sent \(header)")
            } catch let reply as ErrorReply {
                #expect(reply.code == code, "get \(path): \(reply.code) \(reply.message)")
            }
        }
        do {
            _ = try connection.list("fifo")
            Issue.record("ls of a FIFO listed something")
        } catch let reply as ErrorReply {
            #expect(reply.code == .notDirectory, "\(reply.message)")
        }
        try connection.send(.stat(PathRequest(path: "fifo")))
        guard case .entry(let entry) = try connection.receive(timeout: .seconds(3)) else { Issue.record("no stat of the FIFO"); return }
        #expect(entry.entry.kind == .other && entry.entry.size == 0)
        #expect(ContinuousClock.now - started < .seconds(3), "nothing blocked")
        #expect(try connection.list("").entries.count == 5, "the session goes on")
    }
}
