@testable import FerryClient
import Foundation
import Testing

@Suite("HistoryFile")
struct HistoryFileTests {
    /// A history path two directories below a fresh temporary one, which is removed afterwards.
    final class Scratch {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-history-\(UUID().uuidString)").path
        var path: String { root + "/state/ferry/history" }
        func text() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test("the default path follows XDG_STATE_HOME, else ~/.local/state")
    func defaultPath() {
        #expect(HistoryFile.defaultPath(environment: ["XDG_STATE_HOME": "/x/state", "HOME": "/home/u"]) == "/x/state/ferry/history")
        #expect(HistoryFile.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.local/state/ferry/history")
        #expect(HistoryFile.defaultPath(environment: ["XDG_STATE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.local/state/ferry/history")
    }

    @Test("which lines are recorded: not empty, not after a space, not the previous one again")
    func recordingRules() {
        #expect(HistoryFile.records("ls", after: nil))
        #expect(HistoryFile.records("ls", after: "pwd"))
        #expect(!HistoryFile.records("ls", after: "ls"))
        #expect(!HistoryFile.records("", after: "ls"))
        #expect(!HistoryFile.records(" get secret.txt", after: nil))
    }

    @Test("appends make the directory (0700) and the file (0600) and survive a reload")
    func appendAndLoad() throws {
        let scratch = Scratch()
        let history = HistoryFile(path: scratch.path)
        #expect(history.load().isEmpty, "no file yet")
        history.append("ls")
        history.append("get \"报告 final.txt\"")
        #expect(try scratch.text() == "ls\nget \"报告 final.txt\"\n")
        #expect(HistoryFile(path: scratch.path).load() == ["ls", "get \"报告 final.txt\""])
        let directory = try FileManager.default.attributesOfItem(atPath: scratch.root + "/state/ferry")
        #expect((directory[.posixPermissions] as? Int) == 0o700)
        let file = try FileManager.default.attributesOfItem(atPath: scratch.path)
        #expect((file[.posixPermissions] as? Int) == 0o600)
    }

    @Test("the file is bounded: the newest lines are kept when it grows past the limit")
    func bounded() throws {
        let scratch = Scratch()
        let history = HistoryFile(path: scratch.path, limit: 5)
        for number in 1...8 { history.append("cd \(number)") }
        #expect(try scratch.text() == (4...8).map { "cd \($0)\n" }.joined())
        #expect(history.load() == (4...8).map { "cd \($0)" })
    }

    @Test("a file that is already too long is trimmed when loaded")
    func trimmedOnLoad() throws {
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.root + "/state/ferry", withIntermediateDirectories: true)
        try (1...30).map { "ls \($0)\n" }.joined().write(toFile: scratch.path, atomically: true, encoding: .utf8)
        #expect(HistoryFile(path: scratch.path, limit: 10).load() == (21...30).map { "ls \($0)" })
        #expect(try scratch.text() == (21...30).map { "ls \($0)\n" }.joined())
    }

    @Test("a last line cut short (no newline) stays a line of its own")
    func tornLine() throws {
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.root + "/state/ferry", withIntermediateDirectories: true)
        try "ls\npw".write(toFile: scratch.path, atomically: true, encoding: .utf8)
        HistoryFile(path: scratch.path).append("cd docs")
        #expect(try scratch.text() == "ls\npw\ncd docs\n")
    }

    @Test("two shells appending at once lose and mix no line, and the bound holds")
    func concurrentShells() async throws {
        let scratch = Scratch()
        let path = scratch.path
        await withTaskGroup(of: Void.self) { group in
            for shell in 0..<2 {
                group.addTask {
                    let history = HistoryFile(path: path, limit: 150)
                    for number in 0..<100 { history.append("get shell\(shell)-file\(number).txt") }
                }
            }
        }
        let lines = try scratch.text().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "", "ends with a newline")
        let entries = lines.dropLast()
        #expect(entries.count == 150)
        #expect(entries.allSatisfy { $0.wholeMatch(of: /get shell[01]-file\d+\.txt/) != nil })
        // Each shell's own lines stay in order, and the newest of each are there.
        for shell in 0..<2 {
            let numbers = entries.compactMap { line -> Int? in
                guard line.hasPrefix("get shell\(shell)-") else { return nil }
                return Int(line.dropFirst("get shell0-file".count).dropLast(4))
            }
            #expect(numbers == numbers.sorted())
            #expect(numbers.last == 99)
        }
    }
}
