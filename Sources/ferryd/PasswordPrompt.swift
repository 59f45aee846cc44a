import ArgumentParser
import FerryPosix

/// The new password for `adduser` and `passwd`: the first line of standard input, or, on a terminal,
/// typed twice without echo. Shorter than ``minimumLength`` characters it is refused unless the
/// administrator says it may be weak.
enum PasswordPrompt {
    /// The fewest characters a password has without `--allow-weak`.
    static let minimumLength = 8

    static func read(for name: String, allowWeak: Bool) throws -> String {
        let password = try readPassword(for: name)
        guard allowWeak || password.count >= minimumLength else {
            throw OneLine.failure("ferryd: the password has \(password.count) characters; use at least \(minimumLength) (or --allow-weak to accept it)")
        }
        return password
    }

    private static func readPassword(for name: String) throws -> String {
        // Ctrl-C at the prompt must not leave the terminal without echo.
        Signals.onTermination { signal in
            Terminal.restoreEcho()
            Terminal.write("\n", to: Terminal.standardError)
            Signals.exitImmediately(128 + signal)
        }
        if !Terminal.isTerminal(Terminal.standardInput) {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw OneLine.failure("ferryd: no password on standard input")
            }
            return line
        }
        guard let first = Terminal.readSecret(prompt: "Password for \(name): "), !first.isEmpty else {
            throw OneLine.failure("ferryd: empty password")
        }
        guard let second = Terminal.readSecret(prompt: "Again: "), second == first else {
            throw OneLine.failure("ferryd: the passwords do not match")
        }
        return first
    }
}
