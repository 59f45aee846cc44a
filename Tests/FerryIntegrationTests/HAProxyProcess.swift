#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import Foundation

/// Debian's haproxy in front of ferryd nodes, as an operator runs it (docs/SCALING.md): TCP mode,
/// round robin, a PROXY v2 header on every connection to a node, health checks, and a retry on
/// another node when one refuses. It listens on a free port of 127.0.0.1, with a configuration
/// generated in a directory of its own, in the foreground; stopped by its PID at ``stop()`` or deinit,
/// also when a test fails.
final class HAProxyProcess {
    let directory: LocalDirectory
    let process: Process
    /// The port clients connect to.
    let port: Int
    private let stderr: Pipe

    /// Where the test finds haproxy: installed by `make deps` (scripts/ensure-deps.sh).
    static let executable = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    struct NotStarted: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts haproxy balancing over ferryd nodes on 127.0.0.1 at `backends`, each checked every
    /// `checkInterval` milliseconds.
    init(backends: [Int], checkInterval: Int = 200) throws {
        guard let executable = Self.executable else {
            throw NotStarted(description: "haproxy is not installed: run `make deps` (scripts/ensure-deps.sh) as root, or apt-get install haproxy")
        }
        directory = try LocalDirectory()
        var lastError = ""
        for _ in 0..<3 {
            // A free port, read back; haproxy takes it a moment later (a retry covers a thief).
            let probe = try ListeningSocket(host: "127.0.0.1", port: 0)
            let port = probe.localAddress.port
            probe.close()
            let config = directory.file("haproxy.cfg")
            try Self.configuration(port: port, backends: backends, checkInterval: checkInterval)
                .write(to: config, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-db", "-f", config.path]
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = stderr
            let log = DaemonTests.LogBuffer()
            stderr.fileHandleForReading.readabilityHandler = { log.append($0.availableData) }
            try process.run()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && !Self.listening(on: port) && Date() < deadline { usleep(20_000) }
            if process.isRunning && Self.listening(on: port) {
                self.process = process
                self.port = port
                self.stderr = stderr
                return
            }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            stderr.fileHandleForReading.readabilityHandler = nil
            lastError = log.text
        }
        throw NotStarted(description: "haproxy did not start: \(lastError)")
    }

    /// The configuration: what docs/SCALING.md shows, with short checks for a test.
    static func configuration(port: Int, backends: [Int], checkInterval: Int) -> String {
        var text = """
            global
                maxconn 256

            defaults
                mode tcp
                timeout connect 2s
                timeout client 120s
                timeout server 120s
                timeout check 1s
                retries 2
                option redispatch 1

            frontend ferry
                bind 127.0.0.1:\(port)
                default_backend ferryd

            backend ferryd
                balance roundrobin

            """
        for (index, backend) in backends.enumerated() {
            text += "    server node\(index) 127.0.0.1:\(backend) send-proxy-v2 check inter \(checkInterval)ms fall 1 rise 1\n"
        }
        return text
    }

    /// True when something listens on 127.0.0.1:`port` (/proc/net/tcp, so that asking makes no connection).
    static func listening(on port: Int) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return false }
        let local = "0100007F:" + String(format: "%04X", port)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1] == local && fields[3] == "0A"
        }
    }

    /// Stops it (SIGTERM to its PID) and waits.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        stderr.fileHandleForReading.readabilityHandler = nil
    }

    deinit { stop() }
}
