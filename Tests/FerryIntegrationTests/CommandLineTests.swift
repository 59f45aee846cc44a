import Foundation
import Testing

/// The built `ferry` and `ferryd` binaries, run as a user would run them.
@Suite struct CommandLineTests {
    /// The directory holding the built products, next to this test bundle.
    static let products: URL = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("ferry").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs a built product with `arguments`, the given extra environment and standard input.
    static func run(_ product: String, _ arguments: [String], environment: [String: String] = [:],
                    input: String = "", in directory: URL? = nil) throws -> Outcome {
        try runTool(products.appendingPathComponent(product).path, arguments, environment: environment, input: input, in: directory)
    }

    /// Runs any program to its end with these arguments and standard input; a known_hosts of its own.
    static func runTool(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                        input: String = "", in directory: URL? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        // A known_hosts of its own for every run (first contact each time), unless the test brings one:
        // the user's own is never touched, and a port reused by another test's server meets no old key.
        let configHome = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: configHome) }
        // The server, port and user of the developer's own shell must not steer the tests either.
        process.environment = ProcessInfo.processInfo.environment
            .filter { !["FERRY_HOST", "FERRY_PORT", "FERRY_USER"].contains($0.key) }
            .merging(["XDG_CONFIG_HOME": configHome.path]) { $1 }
            .merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus,
                       stdout: String(decoding: out, as: UTF8.self),
                       stderr: String(decoding: err, as: UTF8.self))
    }

    func ferry(_ server: TestServer, _ arguments: [String], input: String = "", in directory: URL? = nil) throws -> Outcome {
        try Self.run("ferry", ["--port", "\(server.port)", "--user", "alice"] + server.clientArguments + arguments,
                     environment: ["FERRY_PASSWORD": TestServer.password], input: input, in: directory)
    }

    @Test func getPutAndLsThroughTheBinary() throws {
        let server = try TestServer()
        try Data("hello from the share\n".utf8).write(to: server.url("hello.txt"))
        let local = try LocalDirectory()

        let get = try ferry(server, ["get", "hello.txt", "--dir", local.file("dl").path])
        #expect(get.status == 0, "stderr: \(get.stderr)")
        #expect(try String(contentsOf: local.file("dl/hello.txt"), encoding: .utf8) == "hello from the share\n")
        #expect(get.stderr.contains("SHA-256 verified"))
        #expect(!get.stderr.contains("\r"), "no redraw characters when stderr is not a terminal")

        try Data("upload me".utf8).write(to: local.file("up.txt"))
        let put = try ferry(server, ["put", local.file("up.txt").path, "renamed.txt"])
        #expect(put.status == 0, "stderr: \(put.stderr)")
        #expect(try String(contentsOf: server.url("renamed.txt"), encoding: .utf8) == "upload me")

        let ls = try ferry(server, ["ls"])
        #expect(ls.status == 0)
        #expect(ls.stdout.contains("hello.txt"))
        #expect(ls.stdout.contains("renamed.txt"))

        let quiet = try ferry(server, ["get", "--quiet", "hello.txt", local.file("q.txt").path])
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty)
    }

    @Test func failuresExitNonZeroWithOneLineSayingWhy() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        let missing = try ferry(server, ["get", "report.pdf", local.path])
        #expect(missing.status == 1)
        #expect(missing.stderr == "ferry: get report.pdf: no such file or directory on the server\n")
        #expect(try local.names().isEmpty)

        let badPassword = try Self.run("ferry", ["--port", "\(server.port)", "--user", "alice", "--no-tls", "ls"],
                                       environment: ["FERRY_PASSWORD": "nope"])
        #expect(badPassword.status == 1)
        #expect(badPassword.stderr == "ferry: wrong user name or password\n")

        let noServer = try Self.run("ferry", ["--port", "1", "ls"], environment: ["FERRY_PASSWORD": "x"])
        #expect(noServer.status == 1)
        #expect(noServer.stderr.hasPrefix("ferry: cannot connect to 127.0.0.1:1: "))
        #expect(noServer.stderr.filter { $0 == "\n" }.count == 1)
    }

    @Test func theShellRunsAScriptOnOneConnection() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("docs"), withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: server.url("docs/notes.txt"))
        let local = try LocalDirectory()
        let script = """
            pwd
            cd docs
            ls
            get notes.txt "\(local.file("my notes.txt").path)"
            cd ..
            bye
            """
        let shell = try ferry(server, ["shell"], input: script)
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        #expect(shell.stdout.contains("Remote working directory: /"))
        #expect(shell.stdout.contains("notes.txt"))
        #expect(try String(contentsOf: local.file("my notes.txt"), encoding: .utf8) == "notes")

        let failing = try ferry(server, [], input: "get missing.txt\nls\n")
        #expect(failing.status == 1, "a batch stops at the first failure")
        #expect(failing.stderr.contains("get missing.txt: "))
    }

    @Test func adduserWritesOnlyVerifiersAndTheNewUserCanLogIn() throws {
        let local = try LocalDirectory()
        try FileManager.default.createDirectory(at: local.file("share"), withIntermediateDirectories: true)
        let config = local.file("config.ini")
        try "[server]\nlisten = 127.0.0.1\nport = 0\nroot = share\n".write(to: config, atomically: true, encoding: .utf8)
        let add = try Self.run("ferryd", ["adduser", "carol", "--config", config.path], input: "correct horse\n")
        #expect(add.status == 0, "stderr: \(add.stderr)")
        let text = try String(contentsOf: config, encoding: .utf8)
        #expect(text.contains("[user.carol]"))
        #expect(text.contains("stored_key = "))
        #expect(!text.contains("correct horse"))
        let readOnly = try Self.run("ferryd", ["adduser", "carol", "--read-only", "--config", config.path], input: "other\n")
        #expect(readOnly.status == 0)
        let updated = try String(contentsOf: config, encoding: .utf8)
        #expect(updated.components(separatedBy: "[user.carol]").count == 2, "replaced, not duplicated")
        #expect(updated.contains("read_only = true"))
        let bad = try Self.run("ferryd", ["adduser", "bad name", "--config", config.path], input: "x\n")
        #expect(bad.status != 0)
    }
}
