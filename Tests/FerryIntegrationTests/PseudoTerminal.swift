import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program run on a pseudo-terminal of its own, as a person at a terminal runs it: the pty's slave
/// is its standard input, output and error and its controlling terminal (in a new session, through
/// `setsid -c`), so line editing, raw mode and Ctrl-C as SIGINT all happen for real. The test types
/// with ``send(_:)`` and reads with ``waitFor(_:timeout:)``.
///
/// The child is killed when the harness goes away, whatever the test did (a failed `#require` too).
/// The only place in the tests that calls libc directly.
final class PseudoTerminal {
    /// Why a wait gave up.
    struct Timeout: Error, CustomStringConvertible {
        let waitingFor: String
        let output: String
        var description: String { "timed out waiting for \(waitingFor.debugDescription); the terminal showed:\n\(output)" }
    }

    let pid: pid_t
    private let master: Int32
    /// Kept open so that the terminal (and its settings) outlive the child, for ``isRaw``.
    private let slave: Int32
    private var bytes: [UInt8] = []
    /// Where the next ``waitFor(_:timeout:)`` starts looking: a UTF-8 offset in ``screenText``.
    private var mark = 0
    private var exitStatus: Int32?

    /// Starts `program` with `arguments` on a new terminal `columns` wide, with exactly `environment`
    /// (plus PATH).
    init(_ program: String, _ arguments: [String], environment: [String: String], columns: UInt16 = 100, rows: UInt16 = 30) throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        self.master = master
        self.slave = slave

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for target in Int32(0)...2 { posix_spawn_file_actions_adddup2(&actions, slave, target) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // setsid -c: a new session whose controlling terminal is standard input. The child is no
        // process group leader, so setsid does not fork: `pid` is the program's own.
        let argv = ["setsid", "-c", program] + arguments
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging(environment) { $1 }
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let status = withCStrings(argv) { argv in
            withCStrings(envp) { envp in posix_spawn(&pid, "/usr/bin/setsid", &actions, &attributes, argv, envp) }
        }
        guard status == 0 else {
            close(master)
            close(slave)
            throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO)
        }
        self.pid = pid
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        close(master)
        close(slave)
    }

    /// Types `text` (control characters included: "\u{3}" is Ctrl-C, "\r" is Return).
    func send(_ text: String) {
        var rest = Array(text.utf8)[...]
        while !rest.isEmpty {
            let count = rest.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if count > 0 { rest = rest.dropFirst(count) } else if errno != EINTR && errno != EAGAIN { return }
        }
    }

    /// Everything the program wrote, escape sequences, carriage returns and bells taken out.
    var screenText: String {
        // Bytes first: "\r\n" is one Character, which a pattern for "\r" would not match.
        String(decoding: bytes.filter { $0 != 0x0D && $0 != 0x07 }, as: UTF8.self)
            .replacing(/\u{1B}\[[0-9;?]*[ -\/]*[@-~]|\u{1B}[^\[]/.matchingSemantics(.unicodeScalar), with: "")
    }

    /// How many times `text` appears in ``screenText``.
    func count(_ text: String) -> Int {
        screenText.components(separatedBy: text).count - 1
    }

    /// Waits until `text` appears after what the last wait found; throws ``Timeout`` with everything shown.
    @discardableResult
    func waitFor(_ text: String, timeout: Duration = .seconds(5)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let screen = screenText
            let start = screen.utf8.index(screen.startIndex, offsetBy: min(mark, screen.utf8.count))
            if let found = screen[start...].range(of: text) {
                mark = screen.utf8.distance(from: screen.startIndex, to: found.upperBound)
                return String(screen[start..<found.upperBound])
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Timeout(waitingFor: text, output: screen) }
            readAvailable(waitingAtMost: left)
        }
    }

    /// Waits for the program to end; its exit status (128 + the signal if one ended it).
    func waitForExit(timeout: Duration = .seconds(5)) throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let signal = status & 0x7f
                exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
                readAvailable(waitingAtMost: .zero)
                return exitStatus!
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Timeout(waitingFor: "the program to end", output: screenText) }
            readAvailable(waitingAtMost: min(left, .milliseconds(50)))
        }
    }

    /// Sends `signal` to the program.
    func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Whether the terminal is in raw mode now (no line buffering, no echo), as a line editor puts it.
    var isRaw: Bool {
        var settings = termios()
        guard tcgetattr(slave, &settings) == 0 else { return false }
        return settings.c_lflag & tcflag_t(ICANON) == 0 && settings.c_lflag & tcflag_t(ECHO) == 0
    }

    /// Whether the terminal turns Ctrl-C into SIGINT now (ISIG).
    var sendsSignals: Bool {
        var settings = termios()
        guard tcgetattr(slave, &settings) == 0 else { return false }
        return settings.c_lflag & tcflag_t(ISIG) != 0
    }

    /// Waits until `condition` holds (checked each time output arrives, and every 20 ms); throws
    /// ``Timeout`` naming `what`.
    func waitUntil(_ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Timeout(waitingFor: what, output: screenText) }
            readAvailable(waitingAtMost: min(left, .milliseconds(20)))
        }
    }

    /// Reads what the program wrote, waiting up to `waitingAtMost` for the first byte.
    private func readAvailable(waitingAtMost wait: Duration) {
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(min(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000, 60_000))
        guard poll(&descriptor, 1, milliseconds) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            bytes.append(contentsOf: buffer[..<count])
        }
    }
}

/// Calls `body` with `strings` as a NULL-terminated array of C strings, as exec and spawn take them.
private func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies + [nil])
}
