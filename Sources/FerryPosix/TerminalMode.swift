#if canImport(Glibc)
import Glibc
#endif

/// A terminal's settings (its termios), saved to be put back later: when a line editor that put the
/// terminal in raw mode is cut short, for instance by a signal that ends the process.
public struct TerminalMode: @unchecked Sendable {
    // termios is plain data (flags and a character array): copies are independent, so sharing is safe.
    private let settings: termios

    /// The settings of the terminal on `fd` now; nil when `fd` is not a terminal.
    public static func current(_ fd: Int32) -> TerminalMode? {
        (try? Posix.terminalAttributes(fd)).map { TerminalMode(settings: $0) }
    }

    /// Puts these settings back on the terminal on `fd` at once. Safe from any thread; a terminal that
    /// went away meanwhile is ignored.
    public func restore(_ fd: Int32) {
        try? Posix.setTerminalAttributes(fd, settings)
    }
}
