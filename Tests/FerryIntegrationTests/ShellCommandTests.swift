import Foundation
import Testing

/// The shell's commands and their one-shot forms, run through the real `ferry` binary as a user types
/// them: options, patterns, where files land, and the refusals that must never rename or replace.
@Suite struct ShellCommandTests {
    let server: TestServer
    let local: LocalDirectory
    let cli = CommandLineTests()

    init() throws {
        server = try TestServer()
        local = try LocalDirectory()
        try FileManager.default.createDirectory(at: server.url("docs"), withIntermediateDirectories: true)
        try Data("alpha\n".utf8).write(to: server.url("docs/a.txt"))
        try Data("beta\n".utf8).write(to: server.url("docs/b.txt"))
        try Data("notes\n".utf8).write(to: server.url("docs/notes.md"))
        try Data("hello\n".utf8).write(to: server.url("hello.txt"))
    }

    private func ferry(_ arguments: [String], input: String = "") throws -> CommandLineTests.Outcome {
        try cli.ferry(server, ["-q"] + arguments, input: input, in: local.url)
    }

    @Test func optionsAreParsedAndUnknownOnesNamed() throws {
        let shell = try ferry([], input: "ls -l docs\n")
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        #expect(shell.stdout.contains("a.txt"))
        let bad = try ferry([], input: "ls -z\nls\n")
        #expect(bad.status == 1)
        #expect(bad.stderr == "ferry: ls: unknown option -z; usage: ls [-l] [path]...\n")
        #expect(!bad.stdout.contains("hello.txt"), "the batch stopped at the failure")
    }

    @Test func patternsMatchRemoteNamesAndNothingMatchedIsAnError() throws {
        let shell = try ferry([], input: "cd docs\nmget *.txt\n")
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        let downloads = local.url.appendingPathComponent("downloads")
        #expect(try FileManager.default.contentsOfDirectory(atPath: downloads.path).sorted() == ["a.txt", "b.txt"])

        let none = try ferry([], input: "get docs/*.pdf\n")
        #expect(none.status == 1)
        #expect(none.stderr == "ferry: get docs/*.pdf: no remote name matches\n")
        // A line starting with - may fail without ending the batch.
        let tolerant = try ferry([], input: "-get docs/*.pdf\npwd\n")
        #expect(tolerant.status == 0)
        #expect(tolerant.stdout.contains("Remote working directory: /"))
    }

    @Test func lcdIsWhereGetsLand() throws {
        let inbox = local.file("inbox")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let shell = try ferry([], input: "lcd \(inbox.path)\nget hello.txt\nlpwd\n")
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        #expect(try String(contentsOf: inbox.appendingPathComponent("hello.txt"), encoding: .utf8) == "hello\n")
        #expect(!FileManager.default.fileExists(atPath: local.file("downloads/hello.txt").path))
    }

    @Test func severalLocalFilesNeedARemoteDirectoryAndNeverRenameOneAnother() throws {
        try Data("one".utf8).write(to: local.file("one.txt"))
        try Data("two".utf8).write(to: local.file("two.txt"))
        // What `put *.txt` expands to: refused, and nothing is stored under the second name.
        let refused = try ferry(["put", "one.txt", "two.txt"])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("ferry: put: two.txt is a local file too"))
        #expect(!FileManager.default.fileExists(atPath: server.url("two.txt").path))

        let into = try ferry(["put", "one.txt", "two.txt", "docs"])
        #expect(into.status == 0, "stderr: \(into.stderr)")
        #expect(try String(contentsOf: server.url("docs/one.txt"), encoding: .utf8) == "one")
        #expect(try String(contentsOf: server.url("docs/two.txt"), encoding: .utf8) == "two")

        let notADirectory = try ferry(["put", "one.txt", "two.txt", "hello.txt"])
        #expect(notADirectory.status == 1)
        #expect(notADirectory.stderr == "ferry: put: hello.txt: several files go into a remote directory, and this is not one\n")

        // One file and an existing remote directory: stored inside it.
        try FileManager.default.createDirectory(at: server.url("inbox"), withIntermediateDirectories: true)
        #expect(try ferry(["put", "one.txt", "inbox"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: server.url("inbox/one.txt").path))
        // A new name that is not a local file is a rename, as scp does it.
        #expect(try ferry(["put", "one.txt", "renamed.txt"]).status == 0)
        #expect(try String(contentsOf: server.url("renamed.txt"), encoding: .utf8) == "one")
    }

    @Test func getToStandardOutputWritesTheVerifiedBytesOnly() throws {
        let bytes = try randomBytes(300_000)
        try bytes.write(to: server.url("blob.bin"))
        let process = Process()
        process.executableURL = CommandLineTests.products.appendingPathComponent("ferry")
        process.arguments = ["--port", "\(server.port)", "--user", "alice"] + server.clientArguments + ["get", "-q", "blob.bin", "-"]
        process.environment = ProcessInfo.processInfo.environment.merging(["FERRY_PASSWORD": TestServer.password, "XDG_CONFIG_HOME": local.file("config").path]) { $1 }
        process.currentDirectoryURL = local.url
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        let received = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(received == bytes)
        #expect(!FileManager.default.fileExists(atPath: local.file("downloads").path), "nothing left behind")
    }

    @Test func aSymlinkDestinationIsWrittenThroughAndAPipeIntoNeverReplaced() throws {
        let target = local.file("real.txt")
        try Data("old".utf8).write(to: target)
        let link = local.file("link.txt")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(try ferry(["get", "hello.txt", link.path]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path, "the link stays a link")
        #expect(try String(contentsOf: target, encoding: .utf8) == "hello\n")

        let fifo = local.file("pipe")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let reader = FifoReader(path: fifo.path)
        let result = try ferry(["get", "hello.txt", fifo.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(reader.wait() == Data("hello\n".utf8))
        var status = stat()
        #expect(lstat(fifo.path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO, "still a pipe")
    }

    @Test func lsOfAFileListsThatFile() throws {
        let result = try ferry(["ls", "hello.txt"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("hello.txt"))
        #expect(result.stdout.split(separator: "\n").count == 1)
        let missing = try ferry(["ls", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "ferry: ls nope: no such file or directory on the server\n")
    }

    @Test func theShellLogsInAgainAfterTheServerClosedAnIdleConnection() throws {
        // Long enough that a login and a command fit in it on a loaded machine, short enough to wait out.
        let server = try TestServer { $0.idleTimeout = .seconds(4) }
        try FileManager.default.createDirectory(at: server.url("docs"), withIntermediateDirectories: true)
        try Data("a".utf8).write(to: server.url("docs/a.txt"))
        let shell = try cli.ferry(server, [], input: "cd docs\n!sleep 5\nls\npwd\n", in: local.url)
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        #expect(shell.stderr.contains("reconnected"))
        #expect(shell.stdout.contains("a.txt"), "the remote directory was kept")
        #expect(shell.stdout.contains("Remote working directory: /docs"))
    }

    @Test func fileManagementFromTheCommandLineAndTheShell() throws {
        // rm -r asks first; where no one can answer it needs -f, and nothing is removed meanwhile.
        let asked = try ferry(["rm", "-r", "docs"])
        #expect(asked.status == 1)
        #expect(asked.stderr == "ferry: rm docs: not removed (-r asks first; give -f where no one can answer)\n")
        #expect(FileManager.default.fileExists(atPath: server.url("docs/a.txt").path))

        let shell = try ferry([], input: "cd docs\nrm *.txt\nls\nmkdir -p x/y\nmv notes.md x/y\nrename x/y/notes.md x/n.md\nrmdir x/y\ndf\n")
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        #expect(try server.names(in: "docs") == ["x"])
        #expect(try server.names(in: "docs/x") == ["n.md"])
        #expect(shell.stdout.contains("quota used: "))

        // Renaming over an existing name is refused unless -f, in one line naming both.
        try Data("other".utf8).write(to: server.url("other.txt"))
        let over = try ferry(["mv", "hello.txt", "other.txt"])
        #expect(over.status == 1)
        #expect(over.stderr == "ferry: rename hello.txt other.txt: other.txt exists already (-f replaces it)\n")
        #expect(try ferry(["mv", "-f", "hello.txt", "other.txt"]).status == 0)
        #expect(try String(contentsOf: server.url("other.txt"), encoding: .utf8) == "hello\n")

        #expect(try ferry(["rm", "-rf", "docs"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: server.url("docs").path))
        let missing = try ferry(["rmdir", "docs"])
        #expect(missing.stderr == "ferry: rmdir docs: no such file or directory on the server\n")
    }

    @Test func aReadOnlyUserIsRefusedInOneLineAndNothingChanges() throws {
        let result = try CommandLineTests.run(
            "ferry", ["--port", "\(server.port)", "--user", "reader"] + server.clientArguments + ["rm", "hello.txt"],
            environment: ["FERRY_PASSWORD": TestServer.password], in: local.url)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ferry: rm hello.txt: "))
        #expect(result.stderr.contains("read-only"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(FileManager.default.fileExists(atPath: server.url("hello.txt").path))
    }

    @Test func batchFilesStopAtTheFirstFailure() throws {
        let batch = local.file("commands")
        try Data("pwd\nget missing.txt\nls\n".utf8).write(to: batch)
        let result = try ferry(["shell", "-b", batch.path])
        #expect(result.status == 1)
        #expect(result.stderr == "ferry: get missing.txt: no such file or directory on the server\n")
        #expect(!result.stdout.contains("hello.txt"))
    }

    @Test func localCommands() throws {
        let result = try ferry([], input: "lmkdir -p \(local.path)/x/y\n!echo hi > \(local.path)/x/y/f\nlls \(local.path)/x/y\nlrm \(local.path)/x/y/f\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("ferry> lls"))
        #expect(result.stdout.contains("\nf\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: local.file("x/y").path).isEmpty)
        let failing = try ferry([], input: "!exit 3\npwd\n")
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("ended with status 3"))
    }
}

/// Reads a named pipe to its end on a thread of its own (opening a pipe blocks until both ends are open).
final class FifoReader: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    init(path: String) {
        Thread {
            if let handle = FileHandle(forReadingAtPath: path) {
                self.data = handle.readDataToEndOfFile()
            }
            self.done.signal()
        }.start()
    }

    func wait() -> Data? {
        done.wait(timeout: .now() + 20) == .success ? data : nil
    }
}
