import FerryClient
import FerryPosix
import FerryTLS
import Foundation
import Synchronization
import Testing

/// The ferryd binary as an operator runs it: configured by a file, stopped by a signal.
@Suite struct DaemonTests {
    @Test func ferrydServesAnAddedUserAndStopsCleanlyOnSIGTERM() throws {
        let local = try LocalDirectory()
        try FileManager.default.createDirectory(at: local.file("share"), withIntermediateDirectories: true)
        try Data("served".utf8).write(to: local.file("share/file.txt"))
        // A leftover from a crashed upload: removed at start, never served.
        try Data("partial".utf8).write(to: local.file("share/.ferry-upload-0123456789abcdef.part"))
        let config = try Self.configWithCarol(in: local)
        let (daemon, stderr, port) = try Self.start(config: config)
        defer { if daemon.isRunning { daemon.terminate() } }
        #expect(!FileManager.default.fileExists(atPath: local.file("share/.ferry-upload-0123456789abcdef.part").path))

        let ls = try CommandLineTests.run("ferry", ["--port", "\(port)", "--user", "carol", "ls"],
                                          environment: ["FERRY_PASSWORD": "pw"])
        #expect(ls.status == 0, "stderr: \(ls.stderr)")
        #expect(ls.stdout.contains("file.txt"))
        #expect(!ls.stdout.contains(".ferry-upload"))

        daemon.terminate()  // SIGTERM
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .exit)
        #expect(daemon.terminationStatus == 0)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(Self.log(of: stderr.fileHandleForReading).contains("stopped"))
    }

    @Test func outOfDescriptorsTheAcceptLoopNeitherSpinsNorDies() throws {
        let local = try LocalDirectory()
        let config = try Self.configWithCarol(in: local)
        // A hard limit of 64 descriptors, which ferryd cannot raise.
        let (daemon, stderr, port) = try Self.start(config: config, descriptorLimit: 64)
        defer { if daemon.isRunning { daemon.terminate() } }

        // Far more connections than descriptors: the listen backlog holds the rest.
        var sockets: [Socket] = []
        for _ in 0..<150 {
            if let socket = try? Socket.connect(host: "127.0.0.1", port: port, timeout: .seconds(2)) { sockets.append(socket) }
        }
        if !daemon.isRunning {
            daemon.waitUntilExit()
            Issue.record("ferryd exited with \(daemon.terminationStatus) (\(daemon.terminationReason == .uncaughtSignal ? "signal" : "exit")): \(Self.log(of: stderr.fileHandleForReading).suffix(2000))")
            return
        }
        let before = try Self.cpuTicks(of: daemon.processIdentifier)
        Thread.sleep(forTimeInterval: 1)
        let after = try Self.cpuTicks(of: daemon.processIdentifier)
        #expect(after - before < 30, "ferryd used \(after - before) ticks (1/100 s) in one second while out of descriptors")
        #expect(daemon.isRunning)

        sockets.forEach { $0.close() }
        Thread.sleep(forTimeInterval: 0.5)
        let ls = try CommandLineTests.run("ferry", ["--port", "\(port)", "--user", "carol", "ls"], environment: ["FERRY_PASSWORD": "pw"])
        #expect(ls.status == 0, "served again once descriptors are free: \(ls.stderr)")
    }

    /// Writes `config.ini` serving `share/` (created if missing) on 127.0.0.1, port 0, and adds the
    /// user carol with password "pw" through `ferryd adduser` (with `--allow-weak`: "pw" is short), as
    /// an operator would.
    static func configWithCarol(in local: LocalDirectory) throws -> URL {
        try FileManager.default.createDirectory(at: local.file("share"), withIntermediateDirectories: true)
        let config = local.file("config.ini")
        try "[server]\nlisten = 127.0.0.1\nport = 0\nroot = share\n".write(to: config, atomically: true, encoding: .utf8)
        let added = try CommandLineTests.run("ferryd", ["adduser", "carol", "--allow-weak", "--config", config.path], input: "pw\n")
        guard added.status == 0 else { throw DaemonDidNotStart(log: "adduser failed: \(added.stderr)") }
        return config
    }

    /// Starts the ferryd binary on `config` (under `ulimit -n descriptorLimit` if given) and waits for
    /// its port. Its stderr is drained from the start; read it with ``log(of:)``.
    static func start(config: URL, descriptorLimit: Int? = nil) throws -> (process: Process, stderr: Pipe, port: Int) {
        let ferryd = CommandLineTests.products.appendingPathComponent("ferryd").path
        let daemon = Process()
        if let descriptorLimit {
            daemon.executableURL = URL(fileURLWithPath: "/bin/sh")
            daemon.arguments = ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" --config \"$1\"", ferryd, config.path]
        } else {
            daemon.executableURL = URL(fileURLWithPath: ferryd)
            daemon.arguments = ["--config", config.path]
        }
        let stderr = Pipe()
        daemon.standardError = stderr
        try daemon.run()
        do {
            return (daemon, stderr, try listeningPort(stderr.fileHandleForReading))
        } catch {
            daemon.terminate()
            throw error
        }
    }

    /// TLS pinned to the key the daemon logged at start ("server key SHA256:...").
    static func pinned(_ stderr: Pipe) throws -> ConnectionSecurity {
        let text = log(of: stderr.fileHandleForReading)
        guard let range = text.range(of: #"server key SHA256:[A-Za-z0-9+/]{43}"#, options: .regularExpression),
              let key = KeyFingerprint(parsing: String(text[range].dropFirst("server key ".count)))
        else { throw DaemonDidNotStart(log: "no server key in the log: \(text)") }
        return .tls(.fingerprint(key))
    }

    /// utime + stime of a process, in clock ticks.
    static func cpuTicks(of pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }

    /// Starts draining `handle` into a buffer at once (a full pipe would block ferryd's logging), and
    /// returns ferryd's port from its "listening on 127.0.0.1:PORT" line, plus the log collected so far
    /// and later.
    static func listeningPort(_ handle: FileHandle) throws -> Int {
        let log = LogBuffer()
        handle.readabilityHandler = { handle in log.append(handle.availableData) }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let seen = log.text
            if let range = seen.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression),
               let port = Int(seen[range].split(separator: ":").last ?? "") {
                logs.withLock { $0[ObjectIdentifier(handle)] = log }
                return port
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw DaemonDidNotStart(log: log.text)
    }

    /// Everything ferryd wrote to `handle` so far (after ``listeningPort(_:)`` started draining it).
    static func log(of handle: FileHandle) -> String {
        logs.withLock { $0[ObjectIdentifier(handle)] }?.text ?? ""
    }

    private static let logs = Mutex<[ObjectIdentifier: LogBuffer]>([:])

    final class LogBuffer: Sendable {
        private let data = Mutex(Data())
        func append(_ more: Data) { data.withLock { $0.append(more) } }
        var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
    }

    struct DaemonDidNotStart: Error, CustomStringConvertible {
        let log: String
        var description: String { "ferryd did not report its port; log so far:\n\(log)" }
    }
}
