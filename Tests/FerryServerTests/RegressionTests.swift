import FerryPosix
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// Bugs found in review, each pinned by the input that exposed it.
@Suite struct RegressionTests {
    /// "/" followed by a combining mark is one Swift Character but still a separator to the kernel.
    @Test(arguments: ["/\u{301}x", "\\\u{301}x", "a/\u{301}b"])
    func separatorsAreFoundByBytesNotCharacters(path: String) throws {
        do {
            let parsed = try SharePath(parsing: path)
            #expect(parsed.components.allSatisfy { !$0.utf8.contains(UInt8(ascii: "/")) })
        } catch {
            #expect(error.code == .invalidPath)
        }
    }

    @Test func aCombiningMarkAfterASlashCannotSmuggleASymlinkOutOfTheRoot() throws {
        let directory = try TemporaryDirectory()
        try directory.makeDirectory("share")
        try directory.makeDirectory("\u{301}out")
        try directory.write("\u{301}out/secret.txt", "outside")
        try directory.symlink("share/up", to: "..")
        let root = try ShareRoot(path: directory.url("share"))
        let path = try SharePath(parsing: "up/\u{301}out/secret.txt")
        #expect(path.components.count == 3)
        #expect(throws: ErrorReply.self) { try root.locate(path, followFinal: true) }
        let create = try SharePath(parsing: "up/\u{301}new")
        #expect(throws: ErrorReply.self) { try root.locate(create, followFinal: false) }
        #expect(!directory.exists("\u{301}new"))
    }

    @Test func twoStreamsOverOneDirectoryDescriptorEachSeeEveryEntry() throws {
        let directory = try TemporaryDirectory()
        for index in 0..<12 { try directory.write("f\(index)", "") }
        let descriptor = try File.openDirectory(path: directory.path)
        let first = try DirectoryStream(descriptor)
        var firstNames = [try #require(try first.next())]
        let second = try DirectoryStream(descriptor)
        while let name = try first.next() { firstNames.append(name) }
        var secondNames: [String] = []
        while let name = try second.next() { secondNames.append(name) }
        #expect(firstNames.count == 12 && Set(firstNames).count == 12)
        #expect(Set(secondNames) == Set(firstNames))
    }

    @Test func windowsLineEndingsReadTheSame() throws {
        let ini = try IniFile(parsing: "[server]\r\nport = 1\r\n\r\n[user.x]\r\nread_only = true\r\n")
        #expect(ini.section("server")?.values["port"] == "1")
        #expect(ini.section("user.x")?.values["read_only"] == "true")
    }

    @Test func replacingASectionKeepsTheCommentThatIntroducesTheNext() {
        let text = "[a]\nk = 1\n\n# about b\n[b]\nx = 1\n"
        #expect(IniFile.replacingSection("a", in: text, with: ["k = 2"]) == "[a]\nk = 2\n\n# about b\n[b]\nx = 1\n")
    }
}
