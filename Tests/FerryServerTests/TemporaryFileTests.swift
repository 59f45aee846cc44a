#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import Foundation
import FerryServer
import Testing

@Suite("TemporaryFile")
struct TemporaryFileTests {
    @Test("fresh names are reserved, hidden, distinct and end in .part")
    func names() {
        let names = (0..<50).map { _ in TemporaryFile.makeName() }
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.hasPrefix(".ferry-upload-"))
            #expect(name.hasSuffix(".part"))
            #expect(TemporaryFile.isReserved(name))
            #expect(name.utf8.count <= 255)
        }
    }

    @Test("reserved names are exactly those with the prefix", arguments: [
        (".ferry-upload-", true), (".ferry-upload-x.part", true), (".ferry-upload-abc", true),
        (".ferry-upload", false), ("ferry-upload-x.part", false), ("x.ferry-upload-x.part", false),
        (".Ferry-upload-x", false), ("", false),
    ])
    func reserved(name: String, isReserved: Bool) {
        #expect(TemporaryFile.isReserved(name) == isReserved)
    }

    @Test("sweep removes temporary files at every depth, keeps the rest and never follows symlinks")
    func sweep() throws {
        let base = try TemporaryDirectory()
        try base.makeDirectory("root/sub/deeper")
        try base.makeDirectory("outside")
        try base.write("root/.ferry-upload-1.part", "partial")
        try base.write("root/keep.txt", "keep")
        try base.write("root/.ferry-upload", "not reserved")
        try base.write("root/sub/.ferry-upload-2.part", "partial")
        try base.write("root/sub/keep2.txt", "keep")
        try base.write("root/sub/deeper/.ferry-upload-3.part", "partial")
        try base.write("outside/.ferry-upload-out.part", "not ours")
        try base.symlink("root/outsideAbs", to: base.url("outside"))
        try base.symlink("root/outsideRel", to: "../outside")
        try base.symlink("root/.ferry-upload-link.part", to: "../outside/.ferry-upload-out.part")

        let root = try File.openDirectory(path: base.url("root"))
        #expect(TemporaryFile.sweep(root: root) == 4)

        #expect(!base.exists("root/.ferry-upload-1.part"))
        #expect(!base.exists("root/sub/.ferry-upload-2.part"))
        #expect(!base.exists("root/sub/deeper/.ferry-upload-3.part"))
        #expect(!base.exists("root/.ferry-upload-link.part"), "a reserved symlink is removed itself")
        #expect(base.exists("outside/.ferry-upload-out.part"), "nothing outside is touched")
        #expect(base.exists("root/keep.txt"))
        #expect(base.exists("root/.ferry-upload"))
        #expect(base.exists("root/sub/keep2.txt"))
        #expect(base.exists("root/outsideAbs"))
        #expect(base.exists("root/outsideRel"))
        #expect(try base.read("root/keep.txt") == "keep")

        #expect(TemporaryFile.sweep(root: root) == 0, "a second sweep finds nothing")
    }

    @Test("sweep finds a temporary file 1,000 directories deep, under a path far past PATH_MAX")
    func sweepHasNoDepthLimit() throws {
        let base = try TemporaryDirectory()
        let root = try File.openDirectory(path: base.path)
        let name = String(repeating: "d", count: 200)
        // 1,000 levels of 200-byte names: about 200 KB of path, reachable only with *at() calls.
        var current = root
        for _ in 0..<1000 {
            #expect(mkdirat(current.rawValue, name, 0o755) == 0)
            current = try File.openDirectory(name, in: current)
        }
        let fd = openat(current.rawValue, ".ferry-upload-deep.part", O_CREAT | O_WRONLY | O_EXCL, 0o600)
        #expect(fd >= 0)
        close(fd)
        #expect(openat(current.rawValue, "keep.txt", O_CREAT | O_WRONLY | O_EXCL, 0o600) >= 0)
        #expect(TemporaryFile.sweep(root: root) == 1)
        #expect(faccessat(current.rawValue, ".ferry-upload-deep.part", F_OK, AT_SYMLINK_NOFOLLOW) != 0)
        #expect(faccessat(current.rawValue, "keep.txt", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        // TemporaryDirectory's own clean-up cannot delete paths this long; GNU rm walks them with *at() calls.
        let rm = Process()
        rm.executableURL = URL(fileURLWithPath: "/bin/rm")
        rm.arguments = ["-rf", base.path + "/" + name]
        try rm.run()
        rm.waitUntilExit()
        #expect(!base.exists(name))
    }
}
