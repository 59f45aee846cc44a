import FerryServer
import FerryWire
import Testing

@Suite("SharePath(parsing:)")
struct SharePathTests {
    @Test("the root is named by empty, dot and slash-free dot forms", arguments: ["", ".", "./", "./.", ".//./"])
    func root(raw: String) throws {
        let path = try SharePath(parsing: raw)
        #expect(path.isRoot)
        #expect(path.components.isEmpty)
        #expect(path.name == "/")
        #expect(path.description == "/")
    }

    @Test("empty and dot components are dropped", arguments: ["a/b", "a//b/", "./a/./b", "a/b/.", "a///b//", "./a/b/./"])
    func normalised(raw: String) throws {
        let path = try SharePath(parsing: raw)
        #expect(path.components == ["a", "b"])
        #expect(!path.isRoot)
        #expect(path.name == "b")
        #expect(path.description == "a/b")
    }

    @Test("refused with invalid_path", arguments: [
        "..", "../", "a/..", "a/../b", "a/../../x", "../config.ini", "./../x",
        "/", "/etc/passwd", "//etc/passwd",
        "a\\b", "C:\\x", "\\\\host\\share", "\\",
        "a\u{0}b", "\u{0}", "a\nb", "a\rb", "a\tb", "\u{1B}[31m", "a\u{7F}b", "\u{1F}",
        String(repeating: "x", count: 256),
        "ok/" + String(repeating: "é", count: 128),
        Array(repeating: "a", count: 257).joined(separator: "/"),
        String(repeating: "ab/", count: 1_666) + "ab",
        String(repeating: "y", count: 5_000),
        ".ferry-upload-x.part", "dir/.ferry-upload-0123456789abcdef01234567.part", ".ferry-upload-",
    ])
    func refused(raw: String) {
        let error = #expect(throws: ErrorReply.self) { try SharePath(parsing: raw) }
        #expect(error?.code == .invalidPath)
        #expect(error?.message.isEmpty == false)
    }

    @Test("taken literally as one component, not decoded or resolved", arguments: [
        "%2e%2e", "%2F", "\u{FF0E}\u{FF0E}", "...", "....", "..a", "a..", ". .", "報告 final (1).txt",
        "-rf", "~", "~root", "$HOME", "a:b", ".hidden", ".ferry-upload", "ferry-upload-x.part",
        "\u{2215}etc\u{2215}passwd", "e\u{301}", "\u{1F600}",
    ])
    func literal(raw: String) throws {
        let path = try SharePath(parsing: raw)
        #expect(path.components == [raw])
        #expect(path.name == raw)
    }

    @Test("limits: 255-byte components, 256 components and 4096 bytes are accepted")
    func limitsAccepted() throws {
        let longName = String(repeating: "x", count: 255)
        #expect(try SharePath(parsing: longName).components == [longName])
        let multiByte = String(repeating: "é", count: 127) + "x"
        #expect(multiByte.utf8.count == 255)
        #expect(try SharePath(parsing: multiByte).components == [multiByte])

        let many = Array(repeating: "a", count: 256)
        #expect(try SharePath(parsing: many.joined(separator: "/")).components == many)

        let exactly4096 = (Array(repeating: String(repeating: "z", count: 255), count: 15)
            + [String(repeating: "z", count: 200), String(repeating: "z", count: 55)]).joined(separator: "/")
        #expect(exactly4096.utf8.count == 4096)
        #expect(try SharePath(parsing: exactly4096).components.count == 17)
        // Many slashes collapse, but the raw length is what counts.
        let slashes4096 = "a" + String(repeating: "/", count: 4094) + "b"
        #expect(try SharePath(parsing: slashes4096).components == ["a", "b"])
        #expect(throws: ErrorReply(.invalidPath, "path is longer than 4096 bytes")) {
            try SharePath(parsing: "a" + String(repeating: "/", count: 4095) + "b")
        }
    }

    @Test("the constants are the documented limits")
    func constants() {
        #expect(SharePath.maximumComponentBytes == 255)
        #expect(SharePath.maximumComponents == 256)
        #expect(SharePath.maximumBytes == 4096)
    }

    @Test("a path built from components describes itself joined by /")
    func components() {
        let path = SharePath(components: ["dir", "b.txt"])
        #expect(path.description == "dir/b.txt")
        #expect(path.name == "b.txt")
        #expect(path == SharePath(components: ["dir", "b.txt"]))
        #expect(path != SharePath(components: ["dir"]))
    }
}
