import Foundation
import Testing

/// The ferryd binary as an operator runs it: configured by a file, stopped by a signal.
@Suite struct DaemonTests {
    @Test func ferrydServesAnAddedUserAndStopsCleanlyOnSIGTERM() throws {
        let local = try LocalDirectory()
        try FileManager.default.createDirectory(at: local.file("share"), withIntermediateDirectories: true)
        try Data("served".utf8).write(to: local.file("share/file.txt"))
        // A leftover from a crashed upload: removed at start, never served.
        try Data("partial".utf8).write(to: local.file("share/.ferry-upload-0123456789abcdef.part"))
        let config = local.file("config.ini")
        try "[server]\nlisten = 127.0.0.1\nport = 0\nroot = share\n".write(to: config, atomically: true, encoding: .utf8)
        let added = try CommandLineTests.run("ferryd", ["adduser", "carol", "--config", config.path], input: "pw\n")
        #expect(added.status == 0)

        let daemon = Process()
        daemon.executableURL = CommandLineTests.products.appendingPathComponent("ferryd")
        daemon.arguments = ["--config", config.path]
        let stderr = Pipe()
        daemon.standardError = stderr
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }

        let port = try Self.listeningPort(stderr.fileHandleForReading)
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
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("stopped"))
    }

    /// Reads ferryd's log until its "listening on 127.0.0.1:PORT" line and returns PORT.
    static func listeningPort(_ handle: FileHandle) throws -> Int {
        var seen = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
            if let range = seen.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let text = seen[range]
                if let port = Int(text.split(separator: ":").last ?? "") { return port }
            }
        }
        throw DaemonDidNotStart(log: seen)
    }

    struct DaemonDidNotStart: Error, CustomStringConvertible {
        let log: String
        var description: String { "ferryd did not report its port; log so far:\n\(log)" }
    }
}
