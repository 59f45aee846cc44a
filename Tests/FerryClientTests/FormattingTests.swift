@testable import FerryClient
import Testing

@Suite struct FormattingTests {
    @Test(arguments: [
        (UInt64(0), "0 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"),
        (64 << 20, "64.0 MiB"), (1 << 30, "1.00 GiB"), (5 << 40, "5.00 TiB"),
    ])
    func sizes(bytes: UInt64, text: String) {
        #expect(ByteFormat.size(bytes) == text)
    }

    @Test func durations() {
        #expect(ByteFormat.duration(0) == "0:00")
        #expect(ByteFormat.duration(7.2) == "0:08")
        #expect(ByteFormat.duration(754) == "12:34")
        #expect(ByteFormat.duration(3723) == "1:02:03")
        #expect(ByteFormat.duration(.nan) == "--:--")
        #expect(ByteFormat.duration(.infinity) == "--:--")
    }

    @Test func theProgressLineShowsEverythingAndFitsTheWidth() {
        let line = ProgressLine.render(name: "report.pdf", phase: "receiving", done: 30 << 20, total: 64 << 20,
                                       rate: 10 * 1_048_576, width: 100)
        #expect(line.hasPrefix("report.pdf"))
        #expect(line.contains("[") && line.contains("]"))
        #expect(line.contains(" 46%"))
        #expect(line.contains("30.0 MiB / 64.0 MiB"))
        #expect(line.contains("10.0 MiB/s"))
        #expect(line.contains("ETA 0:04"))
        #expect(line.count <= 100)
        let narrow = ProgressLine.render(name: String(repeating: "n", count: 200), phase: "receiving",
                                         done: 1, total: 2, rate: .nan, width: 80)
        #expect(narrow.count <= 80)
        #expect(narrow.contains("ETA --:--"))
        #expect(narrow.contains("…"))
    }

    @Test func anEmptyFileIsComplete() {
        let line = ProgressLine.render(name: "empty", phase: "receiving", done: 0, total: 0, rate: .nan, width: 80)
        #expect(line.contains("100%"))
    }

    @Test func theSummarySaysVerified() {
        #expect(ProgressLine.summary(name: "a.bin", bytes: 64 << 20, seconds: 0.5)
            == "a.bin  64.0 MiB in 0.50 s (128.0 MiB/s), MD5 verified")
    }
}

@Suite struct ShellWordsTests {
    @Test func splitsLikeAShell() throws {
        #expect(try ShellWords.split("get a b") == ["get", "a", "b"])
        #expect(try ShellWords.split("  get   a  ") == ["get", "a"])
        #expect(try ShellWords.split(#"get "报告 final (1).txt""#) == ["get", "报告 final (1).txt"])
        #expect(try ShellWords.split(#"get 报告\ final\ (1).txt"#) == ["get", "报告 final (1).txt"])
        #expect(try ShellWords.split("put 'it''s' x") == ["put", "its", "x"])
        #expect(try ShellWords.split(#"get "say \"hi\"""#) == ["get", #"say "hi""#])
        #expect(try ShellWords.split(#"get """#) == ["get", ""])
        #expect(try ShellWords.split("") == [])
    }

    @Test func anOpenQuoteIsAnError() {
        #expect(throws: ShellWords.UnterminatedQuote.self) { try ShellWords.split(#"get "abc"#) }
        #expect(throws: ShellWords.UnterminatedQuote.self) { try ShellWords.split("get 'abc") }
    }
}

@Suite struct RemotePathTests {
    @Test func resolvesAgainstTheWorkingDirectoryAndStopsAtTheRoot() {
        #expect(RemotePath.resolve("docs", from: "/") == "/docs")
        #expect(RemotePath.resolve("b/c", from: "/a") == "/a/b/c")
        #expect(RemotePath.resolve("..", from: "/a/b") == "/a")
        #expect(RemotePath.resolve("../../../..", from: "/a/b") == "/")
        #expect(RemotePath.resolve("/x/./y/", from: "/a") == "/x/y")
        #expect(RemotePath.resolve(".", from: "/a") == "/a")
        #expect(RemotePath.wire("/a/b") == "a/b")
        #expect(RemotePath.wire("/") == "")
    }
}

@Suite struct LocalDestinationTests {
    @Test func theSavedNameIsTheRemotePathsLastComponent() {
        #expect(LocalDestination.fileName(forRemote: "docs/report.pdf") == "report.pdf")
        #expect(LocalDestination.fileName(forRemote: "report.pdf/") == "report.pdf")
        #expect(LocalDestination.fileName(forRemote: "..") == nil)
        #expect(LocalDestination.fileName(forRemote: "") == nil)
    }

    @Test func resolvesDirectoriesAndFilePaths() throws {
        #expect(try LocalDestination.resolve(remote: "a/b.txt", local: "/tmp", downloadDirectory: "x")
            == LocalDestination(directory: "/tmp", name: "b.txt"))
        #expect(try LocalDestination.resolve(remote: "a/b.txt", local: "/tmp/c.txt", downloadDirectory: "x")
            == LocalDestination(directory: "/tmp", name: "c.txt"))
        #expect(try LocalDestination.resolve(remote: "b.txt", local: "c.txt", downloadDirectory: "x")
            == LocalDestination(directory: ".", name: "c.txt"))
        #expect(throws: ClientError.self) {
            try LocalDestination.resolve(remote: "b.txt", local: "/no/such/dir/c.txt", downloadDirectory: "x")
        }
    }

    @Test func aRecursiveGetCopiesIntoAnExistingDirectoryOrBecomesTheNamedOne() throws {
        #expect(try LocalDestination.resolveTree(remote: "photos/2026", local: "/tmp", downloadDirectory: "x") == "/tmp/2026")
        #expect(try LocalDestination.resolveTree(remote: "photos", local: "/tmp/", downloadDirectory: "x") == "/tmp/photos")
        #expect(try LocalDestination.resolveTree(remote: "photos", local: "/tmp/no-such-copy", downloadDirectory: "x") == "/tmp/no-such-copy")
        #expect(try LocalDestination.resolveTree(remote: "", local: "/tmp", downloadDirectory: "x") == "/tmp",
                "the root has no name: its contents go straight in")
    }

    @Test func namesAServerListsMustBeSingleComponents() {
        for name in ["a", "report (1).pdf", "...", ".hidden", "报告"] {
            #expect(LocalTree.isPlainName(name), "\(name)")
        }
        for name in ["", ".", "..", "a/b", "../x", "/etc", "a\u{0}b"] {
            #expect(!LocalTree.isPlainName(name), "\(name.debugDescription)")
        }
    }
}
