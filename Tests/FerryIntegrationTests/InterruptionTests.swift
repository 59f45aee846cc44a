@testable import FerryClient
import FerryPosix
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// Processes killed half way: what is left on disk.
@Suite struct InterruptionTests {
    @Test func ctrlCDuringAGetKeepsOnlyTheHiddenPartialAndTheSameGetResumesIt() throws {
        let server = try TestServer()
        let size: UInt64 = 1 << 30
        #expect(FileManager.default.createFile(atPath: server.url("big.bin").path, contents: nil))
        let handle = try FileHandle(forWritingTo: server.url("big.bin"))
        try handle.truncate(atOffset: size)
        try handle.write(contentsOf: Data("the last bytes".utf8))
        try handle.close()

        let local = try LocalDirectory()
        func get() throws -> (Process, Pipe) {
            let ferry = Process()
            ferry.executableURL = CommandLineTests.products.appendingPathComponent("ferry")
            ferry.arguments = ["--port", "\(server.port)", "--user", "alice", "--no-tls", "--quiet", "get", "big.bin", local.path]
            ferry.environment = ["FERRY_PASSWORD": TestServer.password]
            let errors = Pipe()
            ferry.standardError = errors
            try ferry.run()
            return (ferry, errors)
        }
        let (first, _) = try get()
        // Interrupt as soon as one chunk is verified and recorded.
        try waitUntil(timeout: 60) { Self.recordedChunks(local.file(".big.bin.ferrypart.chunks").path) > 0 }
        kill(first.processIdentifier, SIGINT)
        first.waitUntilExit()
        #expect(first.terminationStatus == 128 + SIGINT)
        #expect(try local.names().sorted() == [".big.bin.ferrypart", ".big.bin.ferrypart.chunks"],
                "nothing under the final name; the verified part waits, hidden")

        let (second, errors) = try get()
        second.waitUntilExit()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 0, "stderr: \(said)")
        #expect(said.contains("resuming big.bin: "), "stderr: \(said)")
        #expect(try local.names() == ["big.bin"])
        let back = try FileHandle(forReadingFrom: local.file("big.bin"))
        try back.seek(toOffset: size)
        #expect(try back.readToEnd() == Data("the last bytes".utf8))
    }

    /// Chunks a download's record claims (non-zero 32-byte slots after its 64-byte header).
    static func recordedChunks(_ path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path), data.count > 64 else { return 0 }
        let slots = Array(data.dropFirst(64))
        return stride(from: 0, to: slots.count - 31, by: 32).filter { slots[$0..<($0 + 32)].contains { $0 != 0 } }.count
    }

    @Test func aFerrydKilledMidUploadLeavesOnlyAHiddenFileThatTheNextStartRemoves() throws {
        let local = try LocalDirectory()
        let config = try DaemonTests.configWithCarol(in: local)
        try Data("old".utf8).write(to: local.file("share/doc.bin"))
        let (first, firstLog, port) = try DaemonTests.start(config: config)
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        let session = try ClientSession.connect(host: "127.0.0.1", port: port, security: try DaemonTests.pinned(firstLog))
        try session.login(user: "carol", password: "pw")
        let raw = RawClient(session)
        try raw.send(.put(PutRequest(path: "doc.bin", size: 1 << 20, md5: String(repeating: "0", count: 32))))
        #expect(try raw.receive() == .ready)
        try raw.sendRaw(Array(repeating: 1, count: 100_000))
        let hidden = { (try? FileManager.default.contentsOfDirectory(atPath: local.file("share").path))?
            .filter { $0.hasPrefix(".ferry-upload-") } ?? [] }
        try waitUntil { !hidden().isEmpty }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(hidden().count == 1, "a crash leaves the hidden temporary file")
        #expect(try String(contentsOf: local.file("share/doc.bin"), encoding: .utf8) == "old")

        let (second, _, _) = try DaemonTests.start(config: config)
        defer { second.terminate(); second.waitUntilExit() }
        #expect(hidden().isEmpty, "the next start removes it")
        #expect(try String(contentsOf: local.file("share/doc.bin"), encoding: .utf8) == "old")
    }

    @Test(arguments: ["ferry", "ferryd adduser"])
    func ctrlCAtThePasswordPromptLeavesTheTerminalEchoing(_ program: String) throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        try "[server]\nport = 0\n".write(to: local.file("config.ini"), atomically: true, encoding: .utf8)
        // A pseudo-terminal for ferry's standard input, as when a person types the password.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(master >= 0)
        defer { close(master) }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        try #require(ioctl(master, 0x4004_5431 /* TIOCSPTLCK */, &unlock) == 0)
        try #require(ioctl(master, 0x8004_5430 /* TIOCGPTN */, &number) == 0)
        let terminal = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        try #require(terminal >= 0)
        defer { close(terminal) }
        func echoing() -> Bool {
            var settings = termios()
            return tcgetattr(terminal, &settings) == 0 && settings.c_lflag & tcflag_t(ECHO) != 0
        }
        #expect(echoing())

        let ferry = Process()
        if program == "ferry" {
            ferry.executableURL = CommandLineTests.products.appendingPathComponent("ferry")
            ferry.arguments = ["--port", "\(server.port)", "--user", "alice", "--no-tls", "ls"]
        } else {
            ferry.executableURL = CommandLineTests.products.appendingPathComponent("ferryd")
            ferry.arguments = ["adduser", "dave", "--config", local.file("config.ini").path]
        }
        ferry.environment = [:]  // no FERRY_PASSWORD: ferry prompts
        ferry.standardInput = FileHandle(fileDescriptor: terminal, closeOnDealloc: false)
        ferry.standardError = FileHandle.nullDevice
        try ferry.run()
        try waitUntil { !echoing() }  // the prompt is up, echo off
        kill(ferry.processIdentifier, SIGINT)
        ferry.waitUntilExit()
        #expect(ferry.terminationStatus == 128 + SIGINT)
        #expect(echoing(), "Ctrl-C at the password prompt must give the terminal its echo back")
    }
}
