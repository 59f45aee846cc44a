import Foundation
import Testing

/// The shell at a real terminal (a pseudo-terminal), typed at as a person types: history with Up,
/// Tab completion of remote names, Ctrl-C and Ctrl-D at the prompt, the history file across runs, and
/// the terminal put back however the shell ends.
@Suite struct ShellTerminalTests {
    static let up = "\u{1B}[A"
    static let ctrlC = "\u{3}"
    static let ctrlD = "\u{4}"

    let server: TestServer
    /// HOME, and the state, configuration and cache directories under it; downloads land in it too.
    let home: LocalDirectory

    init() throws {
        server = try TestServer()
        home = try LocalDirectory()
        try FileManager.default.createDirectory(at: server.url("docs"), withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: server.url("hello-world.txt"))
        try Data("2023\n".utf8).write(to: server.url("report-2023.pdf"))
        try Data("2024\n".utf8).write(to: server.url("report-2024.pdf"))
    }

    var historyPath: String { home.path + "/state/ferry/history" }
    var downloads: URL { home.file("downloads") }

    /// `ferry shell` on a new terminal, logged in and showing its first prompt.
    func shell() throws -> PseudoTerminal {
        let terminal = try PseudoTerminal(
            CommandLineTests.products.appendingPathComponent("ferry").path,
            ["--port", "\(server.port)", "--user", "alice"] + server.clientArguments + ["shell", "--dir", downloads.path],
            environment: [
                "TERM": "xterm", "HOME": home.path, "XDG_STATE_HOME": home.path + "/state",
                "XDG_CONFIG_HOME": home.path + "/config", "XDG_CACHE_HOME": home.path + "/cache",
                "FERRY_PASSWORD": TestServer.password,
            ]
        )
        try prompt(terminal, timeout: .seconds(8))
        return terminal
    }

    /// Waits for the next prompt and for the editor to read (the terminal in its edit mode), as a
    /// person waits for the prompt before typing: what is typed earlier is echoed twice (once by the
    /// terminal, once by the editor), and a Ctrl-D typed then is not seen as one.
    func prompt(_ terminal: PseudoTerminal, timeout: Duration = .seconds(5)) throws {
        try terminal.waitFor("ferry> ", timeout: timeout)
        try terminal.waitUntil("the terminal in edit mode") { terminal.isRaw }
    }

    func history() throws -> String { try String(contentsOfFile: historyPath, encoding: .utf8) }

    @Test func upRecallsEarlierCommands() throws {
        let terminal = try shell()
        terminal.send("cd docs\r")
        try prompt(terminal)
        terminal.send("pwd\r")
        try terminal.waitFor("Remote working directory: /docs\n")
        try prompt(terminal)
        terminal.send("cd ..\r")
        try prompt(terminal)
        // Up once is "cd ..", twice "pwd".
        terminal.send(Self.up + Self.up + "\r")
        try terminal.waitFor("Remote working directory: /\n")
        try prompt(terminal)
        #expect(terminal.count("unknown command") == 0)
    }

    @Test func tabCompletesAUniqueRemoteNameAndListsSeveral() throws {
        let terminal = try shell()
        terminal.send("get hel\t")
        try terminal.waitFor("lo-world.txt")
        terminal.send("\r")
        try prompt(terminal)
        #expect(FileManager.default.fileExists(atPath: downloads.appendingPathComponent("hello-world.txt").path))

        // Two candidates: the shared prefix goes in, both are listed in columns, the line comes back.
        terminal.send("get rep\t")
        try terminal.waitFor("report-2023.pdf  report-2024.pdf\n")
        try terminal.waitFor("ferry> get report-202")
        terminal.send("4.pdf\r")
        try prompt(terminal)
        #expect(try String(contentsOf: downloads.appendingPathComponent("report-2024.pdf"), encoding: .utf8) == "2024\n")
        #expect(!FileManager.default.fileExists(atPath: downloads.appendingPathComponent("report-2023.pdf").path))

        // A directory completes with a slash; a directory made in the shell is offered at once (the
        // listing cached above is dropped on the change).
        terminal.send("mkdir newdir\r")
        try prompt(terminal)
        terminal.send("cd new\t\r")
        try prompt(terminal)
        terminal.send("pwd\r")
        try terminal.waitFor("Remote working directory: /newdir\n")
    }

    @Test func historySurvivesARestartOfTheShell() throws {
        do {
            let first = try shell()
            first.send("cd docs\r")
            try prompt(first)
            first.send(Self.ctrlD)
            #expect(try first.waitForExit() == 0)
        }
        #expect(try history() == "cd docs\n")
        let second = try shell()
        second.send(Self.up + "\r")
        try prompt(second)
        second.send("pwd\r")
        try second.waitFor("Remote working directory: /docs\n")
    }

    /// Ctrl-C as SIGINT (libedit keeps ISIG on), and as a character (an ~/.editrc that turns ISIG off).
    @Test(arguments: [false, true])
    func ctrlCDropsTheLineAndTheShellGoesOn(asCharacter: Bool) throws {
        if asCharacter { try "setty -d -isig\n".write(toFile: home.path + "/.editrc", atomically: true, encoding: .utf8) }
        let terminal = try shell()
        #expect(terminal.sendsSignals == !asCharacter)
        terminal.send("bogus-words")
        try terminal.waitFor("bogus-words")
        terminal.send(Self.ctrlC)
        try terminal.waitFor("^C")
        try prompt(terminal)
        terminal.send("pwd\r")
        try terminal.waitFor("Remote working directory: /\n")
        try prompt(terminal)
        #expect(terminal.count("unknown command") == 0, "the dropped words never ran")
        terminal.send(Self.ctrlD)
        #expect(try terminal.waitForExit() == 0)
        #expect(try history() == "pwd\n", "a dropped line is not recorded")
        #expect(!terminal.isRaw)
    }

    @Test func ctrlCDuringATransferStopsItKeepsThePartAndTheShellGoesOn() throws {
        // Big enough (sparse, so cheap to make) that the get is still running when Ctrl-C comes.
        #expect(FileManager.default.createFile(atPath: server.url("big.bin").path, contents: nil))
        let handle = try FileHandle(forWritingTo: server.url("big.bin"))
        try handle.truncate(atOffset: 8 << 30)
        try handle.close()
        let terminal = try shell()
        terminal.send("get big.bin\r")
        let partial = downloads.appendingPathComponent(".big.bin.ferrypart").path
        // A chunk is verified once its slot in the record (after the 64-byte header) is filled in.
        try terminal.waitUntil("a chunk verified", timeout: .seconds(30)) {
            guard let record = FileManager.default.contents(atPath: partial + ".chunks"), record.count > 64 else { return false }
            return record.dropFirst(64).contains { $0 != 0 }
        }
        terminal.send(Self.ctrlC)
        try terminal.waitFor("get big.bin: interrupted; what was verified is kept", timeout: .seconds(10))
        try prompt(terminal)
        #expect(FileManager.default.fileExists(atPath: partial), "the verified part stays for a resume")
        #expect(!FileManager.default.fileExists(atPath: downloads.appendingPathComponent("big.bin").path))
        // The shell logs in again by itself and goes on.
        terminal.send("pwd\r")
        try terminal.waitFor("Remote working directory: /\n", timeout: .seconds(10))
        try prompt(terminal)
        terminal.send(Self.ctrlD)
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func ctrlDLeavesWithStatusZeroAndTheTerminalRestored() throws {
        let terminal = try shell()
        terminal.send(Self.ctrlD)
        #expect(try terminal.waitForExit() == 0)
        #expect(!terminal.isRaw)
    }

    @Test func aSignalThatEndsTheShellMidLineRestoresTheTerminal() throws {
        let terminal = try shell()
        terminal.send("get half-typed")
        try terminal.waitFor("half-typed")
        terminal.signal(SIGTERM)
        #expect(try terminal.waitForExit() == 128 + SIGTERM)
        #expect(!terminal.isRaw)
    }

    @Test func theHistoryFileIsBounded() throws {
        try FileManager.default.createDirectory(atPath: home.path + "/state/ferry", withIntermediateDirectories: true)
        try (1...1005).map { "cd /old-\($0)\n" }.joined().write(toFile: historyPath, atomically: true, encoding: .utf8)
        let terminal = try shell()
        terminal.send("pwd\r")
        try terminal.waitFor("Remote working directory: /\n")
        try prompt(terminal)
        terminal.send(" cd docs\r") // a leading space keeps a command out of the history
        try prompt(terminal)
        terminal.send(Self.ctrlD)
        #expect(try terminal.waitForExit() == 0)
        let lines = try history().split(separator: "\n")
        #expect(lines.count == 1000)
        #expect(lines.first == "cd /old-7")
        #expect(lines.last == "pwd")
    }
}
