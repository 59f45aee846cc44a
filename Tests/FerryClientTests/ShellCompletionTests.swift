@testable import FerryClient
import Foundation
import Testing

@Suite("ShellCompletion")
struct ShellCompletionTests {
    /// A remote side with a fixed tree, counting how often each directory is listed.
    final class FakeRemote {
        var tree: [String: [ShellCompletion.Name]] = [
            "/": [("report.pdf", false), ("reports", true), ("readme.txt", false), ("docs", true),
                  ("my file's \"copy\".txt", false), ("photos 2024", true), (".hidden", false)],
            "/docs": [("paper.tex", false), ("paris.jpg", false), ("plan", true)],
            "/docs/plan": [("q1.txt", false)],
        ]
        var listed: [String] = []
        func list(_ directory: String) -> [ShellCompletion.Name]? {
            listed.append(directory)
            return tree[directory]
        }
    }

    /// Completion over `remote`, with no local directory unless one is given.
    func completion(_ remote: FakeRemote, cwd: String = "/",
                    local: @escaping (String) -> [ShellCompletion.Name]? = { _ in nil }) -> ShellCompletion {
        ShellCompletion(remoteWorkingDirectory: { cwd }, listRemote: remote.list, listLocal: local)
    }

    @Test("the first word completes from the command table")
    func commandNames() {
        let shell = completion(FakeRemote())
        #expect(shell.complete("pw") == Completion(insert: "d "))
        #expect(shell.complete("mg") == Completion(insert: "et "))
        let l = shell.complete("l")
        #expect(l.insert == "")
        #expect(l.candidates == ["ls", "lcd", "lpwd", "lls", "lmkdir", "lrm", "limit-rate"])
        #expect(shell.complete("lm") == Completion(insert: "kdir "))
        #expect(shell.complete("xyz") == .none)
        #expect(shell.complete("").candidates == ShellCompletion.commands)
        #expect(shell.complete("qu") == Completion(insert: "it "), "aliases complete too")
        #expect(Set(ShellCompletion.commands) == Set(["ls", "dir", "cd", "pwd", "stat", "get", "mget", "put", "mput", "mkdir",
                                                       "rmdir", "rm", "rename", "mv", "df", "lls", "lcd", "lpwd", "lmkdir",
                                                       "lrm", "limit-rate", "help", "?", "bye", "exit", "quit"]))
    }

    @Test("a unique remote name completes with a space, a directory with a slash")
    func uniqueRemoteName() {
        let shell = completion(FakeRemote())
        #expect(shell.complete("get rea") == Completion(insert: "dme.txt "))
        #expect(shell.complete("cd do") == Completion(insert: "cs/"))
        #expect(shell.complete("cd docs") == Completion(insert: "/"))
        #expect(shell.complete("get nothing") == .none)
    }

    @Test("several candidates: their common prefix is inserted and all are listed")
    func severalCandidates() {
        let shell = completion(FakeRemote())
        let result = shell.complete("get re")
        #expect(result.insert == "")
        #expect(result.candidates == ["readme.txt", "report.pdf", "reports/"])
        let rep = shell.complete("get rep")
        #expect(rep.insert == "ort")
        #expect(rep.candidates == ["report.pdf", "reports/"])
    }

    @Test("a name inside a directory: dir/pa lists dir, relative to the working directory")
    func nestedDirectory() {
        let remote = FakeRemote()
        let shell = completion(remote)
        let result = shell.complete("get docs/pa")
        #expect(result == Completion(insert: "", candidates: ["paper.tex", "paris.jpg"]))
        #expect(shell.complete("get docs/pl") == Completion(insert: "an/"))
        #expect(shell.complete("get docs/plan/") == Completion(insert: "q1.txt "))
        #expect(shell.complete("get /docs/pap") == Completion(insert: "er.tex "))
        #expect(remote.listed == ["/docs", "/docs/plan"], "each directory listed once, by its absolute path")

        let inDocs = completion(remote, cwd: "/docs")
        #expect(inDocs.complete("get pap") == Completion(insert: "er.tex "))
        #expect(inDocs.complete("cd ../rea") == Completion(insert: "dme.txt "))
    }

    @Test("names with spaces and quotes: escaped with backslashes, or finished inside an open quote")
    func quotedNames() throws {
        let shell = completion(FakeRemote())
        #expect(shell.complete("get my") == Completion(insert: "\\ file\\'s\\ \\\"copy\\\".txt "))
        #expect(shell.complete("cd pho") == Completion(insert: "tos\\ 2024/"))
        #expect(shell.complete("cd photos\\ 2") == Completion(insert: "024/"))
        #expect(shell.complete("get \"my fi") == Completion(insert: "le's \\\"copy\\\".txt\" "))
        #expect(shell.complete("cd 'photos ") == Completion(insert: "2024/"))
        #expect(shell.complete("get 'my") == Completion(insert: " file'\\''s \"copy\".txt' "))
        // What is inserted, read back by the shell's own splitting, gives the name.
        let line = "get my" + shell.complete("get my").insert
        #expect(try ShellWords.split(line) == ["get", "my file's \"copy\".txt"])
    }

    @Test("hidden names only when the typed name starts with a dot")
    func hiddenNames() {
        let shell = completion(FakeRemote())
        #expect(!shell.complete("get ").candidates.contains(".hidden"))
        #expect(shell.complete("get .") == Completion(insert: "hidden "))
    }

    @Test("remote or local by the command and the argument's position; flags are skipped")
    func sides() throws {
        let local = try LocalTestDirectory()
        try local.make("local-only.txt")
        try local.make("lib", directory: true)
        let shell = completion(FakeRemote(), local: LocalNames.list)
        let dir = local.path + "/"
        #expect(shell.complete("put \(dir)local") == Completion(insert: "-only.txt "))
        #expect(shell.complete("put \(dir)local-only.txt rea") == Completion(insert: "dme.txt "), "put's second word is remote")
        #expect(shell.complete("get readme.txt \(dir)li") == Completion(insert: "b/"), "get's second word is local")
        #expect(shell.complete("get -r rea") == Completion(insert: "dme.txt "), "a flag does not count as a position")
        #expect(shell.complete("get -r readme.txt \(dir)li") == Completion(insert: "b/"))
        #expect(shell.complete("lcd \(dir)l") == Completion(insert: "", candidates: ["lib/", "local-only.txt"]))
        #expect(shell.complete("ls -") == .none)
        #expect(shell.complete("pwd ") == .none)
        #expect(ShellCompletion.side(of: "mget", position: 3) == .remote)
        #expect(ShellCompletion.side(of: "mput", position: 3) == .local)
        #expect(ShellCompletion.side(of: "help", position: 0) == nil)
    }

    @Test("local names: hidden ones only after a dot, symlinks to directories count as directories")
    func localNames() throws {
        let local = try LocalTestDirectory()
        try local.make(".secret")
        try local.make("target", directory: true)
        try FileManager.default.createSymbolicLink(atPath: local.path + "/link", withDestinationPath: local.path + "/target")
        let shell = completion(FakeRemote(), local: LocalNames.list)
        #expect(shell.complete("lls \(local.path)/") == Completion(insert: "", candidates: ["link/", "target/"]))
        #expect(shell.complete("lls \(local.path)/.") == Completion(insert: "secret "))
        #expect(LocalNames.list(local.path + "/missing") == nil)
        // "~" is the home directory, as lcd takes it.
        var listed: [String] = []
        let home = completion(FakeRemote(), local: { listed.append($0); return [] })
        _ = home.complete("lcd ~/x")
        _ = home.complete("lls x")
        #expect(listed == [NSHomeDirectory() + "/", "."])
    }

    @Test("remote listings are cached until invalidate()")
    func cacheInvalidation() {
        let remote = FakeRemote()
        let shell = completion(remote)
        #expect(shell.complete("get rea") == Completion(insert: "dme.txt "))
        remote.tree["/"]?.append(("readable.log", false))
        #expect(shell.complete("get rea") == Completion(insert: "dme.txt "), "the cached listing is used")
        #expect(remote.listed == ["/"])
        shell.invalidate()
        #expect(shell.complete("get rea") == Completion(insert: "d", candidates: ["readable.log", "readme.txt"]))
        #expect(remote.listed == ["/", "/"])
    }

    @Test("a directory that cannot be listed completes nothing")
    func unlistable() {
        let shell = completion(FakeRemote())
        #expect(shell.complete("get missing/x") == .none)
    }
}

@Suite("PartialCommandLine")
struct PartialCommandLineTests {
    @Test("finished words and the word being typed, with quotes and backslashes")
    func splitting() {
        #expect(PartialCommandLine("get a") == PartialCommandLine(words: ["get"], current: "a"))
        #expect(PartialCommandLine("get a ") == PartialCommandLine(words: ["get", "a"], current: ""))
        #expect(PartialCommandLine("") == PartialCommandLine(words: [], current: ""))
        #expect(PartialCommandLine("get \"my fi") == PartialCommandLine(words: ["get"], current: "my fi", openQuote: "\""))
        #expect(PartialCommandLine("get 'it''s") == PartialCommandLine(words: ["get"], current: "its", openQuote: "'"))
        #expect(PartialCommandLine("get my\\ fi") == PartialCommandLine(words: ["get"], current: "my fi"))
        #expect(PartialCommandLine("get \"a\\\"b\\n") == PartialCommandLine(words: ["get"], current: "a\"b\\n", openQuote: "\""))
        #expect(PartialCommandLine("put 'a b' c\\ d e") == PartialCommandLine(words: ["put", "a b", "c d"], current: "e"))
    }

    @Test("finished words agree with ShellWords.split")
    func agreesWithShellWords() throws {
        for line in ["get \"报告 final (1).txt\" x", "get 报告\\ final\\ (1).txt y", "a 'b c' \"d\\\\e\" f\\ g h"] {
            let partial = PartialCommandLine(line)
            #expect(partial.words + [partial.current] == (try ShellWords.split(line)))
        }
    }
}

@Suite("CandidateColumns")
struct CandidateColumnsTests {
    @Test("names fill columns top to bottom, as many as fit")
    func layout() {
        let names = ["alpha", "beta", "gamma", "delta", "epsilon"]
        // widest 7 + gap 2 = 9 per column; 20 columns fit 2.
        #expect(CandidateColumns.lines(names, width: 20) == ["alpha    delta", "beta     epsilon", "gamma"])
        #expect(CandidateColumns.lines(names, width: 80) == ["alpha    beta     gamma    delta    epsilon"])
        #expect(CandidateColumns.lines(names, width: 3) == names, "one column when nothing fits")
        #expect(CandidateColumns.lines([], width: 80).isEmpty)
    }
}

/// A scratch local directory, removed at deinit.
final class LocalTestDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-completion-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func make(_ name: String, directory: Bool = false) throws {
        if directory {
            try FileManager.default.createDirectory(atPath: path + "/" + name, withIntermediateDirectories: true)
        } else {
            try Data("x".utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        }
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
