#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The few terminal operations the client needs: is it a terminal, how wide, read a line without echo.
public enum Terminal {
    public static let standardInput: Int32 = 0
    public static let standardOutput: Int32 = 1
    public static let standardError: Int32 = 2

    /// True when `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { Posix.isatty(fd) }

    /// Writes out what `print` has buffered, so that it comes before what a child process or standard
    /// error says next.
    public static func flushStandardOutput() { fflush(nil) }

    /// Columns of the terminal on `fd`, or nil when it is not one.
    public static func width(_ fd: Int32) -> Int? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Writes a string to `fd` unbuffered; errors (a closed pipe) are ignored, as for any diagnostic.
    public static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var rest = UnsafeRawBufferPointer(bytes)
            while !rest.isEmpty {
                guard let count = try? Posix.write(fd, from: rest), count > 0 else { return }
                rest = UnsafeRawBufferPointer(rebasing: rest[count...])
            }
        }
    }

    /// Prints `prompt` to the terminal and reads one line from standard input with echo turned off.
    /// Returns nil at end of input.
    /// While echo is off, the settings to put back, so that ``restoreEcho()`` can do it from an
    /// interrupt handler: Ctrl-C at the password prompt must not leave the terminal silent.
    private static let echoless = Mutex<termios?>(nil)

    public static func readSecret(prompt: String) -> String? {
        write(prompt, to: standardError)
        var saved = termios()
        let isTTY = tcgetattr(standardInput, &saved) == 0
        if isTTY {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            echoless.withLock { $0 = saved }
            _ = tcsetattr(standardInput, TCSAFLUSH, &quiet)
        }
        defer {
            if isTTY {
                restoreEcho()
                write("\n", to: standardError)
            }
        }
        return Swift.readLine(strippingNewline: true)
    }

    /// Puts back the terminal settings ``readSecret(prompt:)`` changed, if it is reading now.
    public static func restoreEcho() {
        guard var saved = echoless.withLock({ state -> termios? in
            defer { state = nil }
            return state
        }) else { return }
        _ = tcsetattr(standardInput, TCSAFLUSH, &saved)
    }
}
