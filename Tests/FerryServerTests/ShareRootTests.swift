#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryServer
import FerryWire
import Testing

/// base/{outside.txt, root2/secret.txt, root/...}: a share with symlinks that stay inside and ones that escape.
final class ShareFixture {
    let base: TemporaryDirectory
    let rootPath: String
    let share: ShareRoot

    init() throws {
        base = try TemporaryDirectory()
        try base.write("outside.txt", "outside")
        try base.makeDirectory("root2")
        try base.write("root2/secret.txt", "secret")
        try base.makeDirectory("root/dir/sub")
        try base.write("root/a.txt", "alpha")
        try base.write("root/dir/b.txt", "bravo!")
        try base.write("root/dir/sub/c.txt", "charlie")
        try base.symlink("root/linkIn", to: "dir")
        try base.symlink("root/linkFileIn", to: "dir/b.txt")
        try base.symlink("root/escapeRel", to: "../outside.txt")
        try base.symlink("root/escapeAbs", to: "/etc/passwd")
        try base.symlink("root/escapeSibling", to: "../root2/secret.txt")
        try base.symlink("root/escapeAbsInside", to: base.url("root/a.txt"))
        try base.symlink("root/dir/up", to: "../../outside.txt")
        try base.symlink("root/dir/back", to: "../a.txt")
        try base.symlink("root/dir/sub/toA", to: "../../a.txt")
        try base.symlink("root/dir/sub/viaLink", to: "../../linkIn/b.txt")
        try base.symlink("root/loop1", to: "loop2")
        try base.symlink("root/loop2", to: "loop1")
        try base.symlink("root/self", to: "self")
        try base.symlink("root/dangling", to: "nothere")
        try base.write("root/dir/.ferry-upload-0123.part", "half an upload")
        try base.symlink("root/sneaky", to: "dir/.ferry-upload-0123.part")
        try base.symlink("root/sneakyDir", to: ".ferry-upload-dir")
        rootPath = base.url("root")
        share = try ShareRoot(path: rootPath)
    }

    func locate(_ raw: String, followFinal: Bool = true) throws -> ShareRoot.Location {
        try share.locate(SharePath(parsing: raw), followFinal: followFinal)
    }

    func openDirectory(_ raw: String) throws -> Descriptor {
        try share.openDirectory(SharePath(parsing: raw))
    }
}

/// The contents of the file a location names, read through the location's parent descriptor.
private func contents(_ location: ShareRoot.Location) throws -> String {
    let file = try File.openForReading(location.name, in: location.parent)
    var bytes = [UInt8](repeating: 0, count: 256)
    let count = try bytes.withUnsafeMutableBytes { try File.read(file, into: $0, at: 0) }
    return String(decoding: bytes[..<count], as: UTF8.self)
}

private func names(in directory: Descriptor) throws -> [String] {
    let stream = try DirectoryStream(directory)
    var names: [String] = []
    while let name = try stream.next() { names.append(name) }
    return names.sorted()
}

@Suite("ShareRoot")
struct ShareRootTests {
    let fixture: ShareFixture
    init() throws { fixture = try ShareFixture() }

    @Test("files inside are located, following symlinks that stay inside", arguments: [
        ("a.txt", ["a.txt"], "alpha"),
        ("dir/b.txt", ["dir", "b.txt"], "bravo!"),
        ("dir/sub/c.txt", ["dir", "sub", "c.txt"], "charlie"),
        ("linkFileIn", ["dir", "b.txt"], "bravo!"),
        ("linkIn/b.txt", ["dir", "b.txt"], "bravo!"),
        ("./linkIn//sub/c.txt", ["dir", "sub", "c.txt"], "charlie"),
        ("dir/back", ["a.txt"], "alpha"),
        ("linkIn/back", ["a.txt"], "alpha"),
        ("dir/sub/toA", ["a.txt"], "alpha"),
        ("dir/sub/viaLink", ["dir", "b.txt"], "bravo!"),
    ])
    func locatesInside(raw: String, resolved: [String], text: String) throws {
        let location = try fixture.locate(raw, followFinal: true)
        #expect(location.path.components == resolved)
        #expect(location.name == resolved.last)
        #expect(try FileStatus.of(location.name, in: location.parent).kind == .file)
        #expect(try contents(location) == text)
    }

    @Test("symlinks leading outside the root are refused with permission_denied", arguments: [
        "escapeRel", "escapeAbs", "escapeSibling", "escapeAbsInside", "dir/up", "linkIn/up",
        "escapeRel/x", "escapeAbs/x", "linkIn/up/x",
    ])
    func escapesRefused(raw: String) {
        for followFinal in [true, false] where followFinal || raw.hasSuffix("/x") {
            let error = #expect(throws: ErrorReply.self, "\(raw) followFinal: \(followFinal)") {
                try fixture.locate(raw, followFinal: followFinal)
            }
            #expect(error?.code == .permissionDenied, "\(raw)")
        }
    }

    @Test("a symlink loop is refused, not followed forever", arguments: ["loop1", "loop2", "self", "loop1/x"])
    func loops(raw: String) {
        let error = #expect(throws: ErrorReply.self) { try fixture.locate(raw, followFinal: true) }
        #expect(error?.code == .permissionDenied)
        #expect(error?.message.contains("too many levels of symlinks") == true)
    }

    @Test("a missing final component is located (for put), in the root or below", arguments: [
        ("new.txt", ["new.txt"]),
        ("dir/new.txt", ["dir", "new.txt"]),
        ("linkIn/new.txt", ["dir", "new.txt"]),
        ("dir/sub/new", ["dir", "sub", "new"]),
    ])
    func missingFinal(raw: String, resolved: [String]) throws {
        for followFinal in [true, false] {
            let location = try fixture.locate(raw, followFinal: followFinal)
            #expect(location.name == resolved.last)
            #expect(location.path.components == resolved)
            let error = #expect(throws: PosixError.self) { try FileStatus.of(location.name, in: location.parent) }
            #expect(error?.code == ENOENT)
        }
    }

    @Test("a missing directory in the middle is not_found", arguments: ["nope/x", "dir/nope/x", "linkIn/nope/x", "nope/deeper/x"])
    func missingMiddle(raw: String) {
        let error = #expect(throws: ErrorReply.self) { try fixture.locate(raw, followFinal: false) }
        #expect(error?.code == .notFound)
    }

    @Test("a file used as a directory is not_directory", arguments: ["a.txt/x", "dir/b.txt/x", "linkFileIn/x", "a.txt/x/y"])
    func fileAsDirectory(raw: String) {
        let error = #expect(throws: ErrorReply.self) { try fixture.locate(raw, followFinal: true) }
        #expect(error?.code == .notDirectory)
    }

    @Test("temporary upload files are not found even through a symlink", arguments: ["sneaky", "sneakyDir/x"])
    func temporaryThroughSymlink(raw: String) {
        let error = #expect(throws: ErrorReply.self) { try fixture.locate(raw, followFinal: true) }
        #expect(error?.code == .notFound)
    }

    @Test("the root itself has no location")
    func rootHasNoLocation() {
        let error = #expect(throws: ErrorReply.self) { try fixture.share.locate(SharePath(components: []), followFinal: true) }
        #expect(error?.code == .invalidPath)
    }

    @Test("with followFinal false a final symlink is returned as it is", arguments: [
        ("escapeAbs", ["escapeAbs"]),
        ("escapeRel", ["escapeRel"]),
        ("loop1", ["loop1"]),
        ("linkIn", ["linkIn"]),
        ("dir/up", ["dir", "up"]),
        ("linkIn/up", ["dir", "up"]),
        ("dangling", ["dangling"]),
    ])
    func finalSymlinkNotFollowed(raw: String, resolved: [String]) throws {
        let location = try fixture.locate(raw, followFinal: false)
        #expect(location.name == resolved.last)
        #expect(location.path.components == resolved)
        #expect(try FileStatus.of(location.name, in: location.parent).kind == .symlink)
    }

    @Test("a dangling symlink inside is followed to its missing target")
    func danglingFollowed() throws {
        let location = try fixture.locate("dangling", followFinal: true)
        #expect(location.name == "nothere")
        #expect(location.path.components == ["nothere"])
    }

    @Test("openDirectory opens the root, directories and symlinks to directories inside")
    func openDirectories() throws {
        let root = try fixture.openDirectory("")
        #expect(root === fixture.share.directory)
        #expect(try names(in: root).contains("a.txt"))
        #expect(try names(in: root).contains("linkIn"))

        let expected = [".ferry-upload-0123.part", "b.txt", "back", "sub", "up"]
        #expect(try names(in: fixture.openDirectory("dir")) == expected)
        #expect(try names(in: fixture.openDirectory("linkIn")) == expected)
        #expect(try names(in: fixture.openDirectory("linkIn/sub")) == ["c.txt", "toA", "viaLink"])
        #expect(try names(in: fixture.openDirectory("./dir/")) == expected)
    }

    @Test("openDirectory refuses what is outside, missing or not a directory", arguments: [
        ("escapeRel", ErrorCode.permissionDenied),
        ("escapeAbs", .permissionDenied),
        ("dir/up", .permissionDenied),
        ("loop1", .permissionDenied),
        ("nope", .notFound),
        ("nope/deeper", .notFound),
        ("a.txt", .notDirectory),
        ("linkFileIn", .notDirectory),
    ])
    func openDirectoryRefused(raw: String, code: ErrorCode) {
        let error = #expect(throws: ErrorReply.self) { try fixture.openDirectory(raw) }
        #expect(error?.code == code, "\(raw)")
    }

    @Test("the root must exist and be a directory")
    func rootMustBeDirectory() throws {
        let missing = #expect(throws: PosixError.self) { try ShareRoot(path: fixture.base.url("missing")) }
        #expect(missing?.code == ENOENT)
        let file = #expect(throws: PosixError.self) { try ShareRoot(path: fixture.base.url("outside.txt")) }
        #expect(file?.code == ENOTDIR)
    }

    @Test("a root whose name prefixes a sibling does not reach the sibling")
    func prefixSibling() throws {
        #expect(fixture.base.exists("root2/secret.txt"))
        let error = #expect(throws: ErrorReply.self) { try fixture.locate("escapeSibling") }
        #expect(error?.code == .permissionDenied)
        // The sibling is an ordinary root of its own.
        let sibling = try ShareRoot(path: fixture.rootPath + "2")
        let location = try sibling.locate(SharePath(parsing: "secret.txt"), followFinal: true)
        #expect(try contents(location) == "secret")
    }
}
