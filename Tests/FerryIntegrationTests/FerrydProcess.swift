#if canImport(Glibc)
import Glibc
#endif
import FerryClient
import FerryPosix
import FerryTLS
import FerryWire
import Foundation
import Testing

/// The ferryd binary on a fresh share with the user carol (password "pw"), configured as an operator
/// would: by default TLS on, with the key ferryd makes beside its config.ini on the first start.
/// Stopped at deinit, also when a test fails.
final class FerrydProcess {
    let local: LocalDirectory
    let process: Process
    let stderr: Pipe
    let port: Int

    /// - Parameters:
    ///   - server: lines added to `[server]` (such as `login_timeout = 2`).
    ///   - sections: text appended to config.ini (such as a `[tls]` section).
    ///   - directory: an existing directory to run in (a second start over the same files).
    init(server: String = "", sections: String = "", in directory: LocalDirectory? = nil) throws {
        Posix.ignoreSIGPIPE()  // a test's own writes to a connection ferryd closed must fail, not kill the runner
        local = try directory ?? LocalDirectory()
        let config = local.file("config.ini")
        if directory == nil || !FileManager.default.fileExists(atPath: config.path) {
            _ = try DaemonTests.configWithCarol(in: local)
        }
        var text = try String(contentsOf: config, encoding: .utf8)
        for line in server.split(separator: "\n") {
            // A key that is there already gets the new value; a new one goes at the top of [server].
            let key = line.split(separator: "=")[0].trimmingCharacters(in: .whitespaces)
            if let existing = text.range(of: "(?m)^\(key) = .*$", options: .regularExpression) {
                text.replaceSubrange(existing, with: line)
            } else {
                text = text.replacingOccurrences(of: "[server]\n", with: "[server]\n\(line)\n")
            }
        }
        text += sections
        try text.write(to: config, atomically: true, encoding: .utf8)
        (process, stderr, port) = try DaemonTests.start(config: config)
    }

    var share: URL { local.file("share") }
    var config: URL { local.file("config.ini") }
    var log: String { DaemonTests.log(of: stderr.fileHandleForReading) }

    /// The key ferryd logged at start, nil in clear text.
    var fingerprint: KeyFingerprint? {
        guard case .tls(.fingerprint(let key))? = try? DaemonTests.pinned(stderr) else { return nil }
        return key
    }

    /// A logged-in raw connection as carol (TLS unless the daemon speaks clear text).
    func carol() throws -> HardConnection {
        let connection = try HardConnection(port: port, tls: fingerprint != nil)
        let outcome = try connection.login(user: "carol", password: "pw")
        guard case .authOK = outcome else { throw HardUnexpected("carol could not log in: \(outcome)") }
        return connection
    }

    /// True when the daemon is alive and serves a new client: login and a listing.
    func servesOthers() -> Bool {
        guard process.isRunning else {
            Issue.record("ferryd died (\(process.terminationReason == .uncaughtSignal ? "signal" : "exit") \(process.terminationStatus)): \(log.suffix(1500))")
            return false
        }
        do {
            _ = try carol().list("")
            return true
        } catch {
            Issue.record("ferryd is running but does not serve: \(error)")
            return false
        }
    }

    /// A raw connection (TLS unless the daemon speaks clear text) that tried to log in as `user`, and
    /// the server's answer: `auth_ok`, or the error.
    func login(_ user: String, password: String) throws -> (connection: HardConnection, outcome: Message) {
        let connection = try HardConnection(port: port, tls: fingerprint != nil)
        return (connection, try connection.login(user: user, password: password))
    }

    /// Runs `ferryd ARGUMENTS --config` this daemon's config.ini, as an operator would next to it.
    func ferryd(_ arguments: [String], input: String = "") throws -> CommandLineTests.Outcome {
        try CommandLineTests.run("ferryd", arguments + ["--config", config.path], input: input)
    }

    /// Sends SIGHUP: read config.ini again.
    func hangUp() {
        kill(process.processIdentifier, SIGHUP)
    }

    /// How many lines of the log so far contain `text`.
    func logLines(containing text: String) -> Int {
        log.split(separator: "\n").filter { $0.contains(text) }.count
    }

    /// Stops it (SIGTERM) and waits.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}
