import ArgumentParser
import FerryCrypto
import FerryServer

extension Ferryd {
    /// `ferryd passwd NAME`: give a user a new password, keeping everything else about the user.
    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd",
            abstract: "Change a user's password. It is read from standard input, or prompted for twice on a terminal.",
            discussion: "A running ferryd takes the new password at the next login; sessions already logged in go on."
        )

        @Argument(help: "The user name.")
        var name: String

        @OptionGroup var options: ConfigOption
        var config: String { options.config }

        @Flag(name: .long, help: "Accept a password shorter than \(PasswordPrompt.minimumLength) characters.")
        var allowWeak = false

        @Option(name: .long, help: "PBKDF2 iterations (at least 4096; default: the user's count so far).")
        var iterations: Int?

        func validate() throws {
            if let iterations, iterations < ScramCredentials.minimumIterations {
                throw ValidationError("--iterations must be at least \(ScramCredentials.minimumIterations)")
            }
        }

        func run() throws {
            let editor = try ConfigEditor(path: config)
            var user = try editor.existingUser(name)
            let password = try PasswordPrompt.read(for: name, allowWeak: allowWeak)
            user.credentials = ScramCredentials.derive(
                password: password, salt: SecureRandom.bytes(16), iterations: iterations ?? user.credentials.iterations
            )
            user.root = editor.written("root", ofUser: name)
            try editor.store(user)
            print("changed the password of \(name) in \(config); a running ferryd takes it at the next login")
        }
    }
}
