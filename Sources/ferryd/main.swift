import ArgumentParser
import FerryCrypto
import FerryPosix
import FerryServer
import FerryTLS
import FerryWire
import Foundation
import Logging

/// `ferryd`: serve, add a user, or show the server key's fingerprint.
struct Ferryd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferryd",
        abstract: "Ferry's file transfer daemon.",
        version: FerryVersion.current,
        subcommands: [Serve.self, AddUser.self, Fingerprint.self],
        defaultSubcommand: Serve.self
    )
}

extension Ferryd {
    /// `ferryd [--config FILE]`: serve the configured root until SIGINT or SIGTERM.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve files (the default).")

        @Option(name: .long, help: "The configuration file.")
        var config = "config.ini"

        @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
        var logLevel: Logger.Level = .info

        func run() throws {
            Posix.ignoreSIGPIPE()
            Posix.raiseDescriptorLimit()
            let level = logLevel
            LoggingSystem.bootstrap { label in
                var handler = EscapingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
                handler.logLevel = level
                return handler
            }
            let file: ConfigFile
            do { file = try ConfigFile(path: config) } catch {
                throw ValidationError("\(error)")
            }
            if file.users.count == 0 {
                Terminal.write("ferryd: warning: \(config) has no users; add one with: ferryd adduser NAME --config \(config)\n",
                               to: Terminal.standardError)
            }
            let server: Server
            do {
                server = try Server(configuration: file.configuration, users: file.users, logger: Logger(label: "ferryd"))
            } catch {
                Terminal.write("ferryd: \(error)\n", to: Terminal.standardError)
                throw ExitCode.failure
            }
            Signals.onTermination { _ in
                server.shutdown()
                Signals.exitImmediately(0)
            }
            server.start()
            dispatchMain()
        }
    }

    /// `ferryd adduser NAME`: add or replace a user's SCRAM keys in the configuration file.
    struct AddUser: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "adduser",
            abstract: "Add or replace a user. The password is read from standard input, or prompted for twice on a terminal."
        )

        @Argument(help: "The user name: 1-64 letters, digits, '.', '_' or '-'.")
        var name: String

        @Option(name: .long, help: "The configuration file.")
        var config = "config.ini"

        @Flag(name: .long, help: "The user may list and download but not upload.")
        var readOnly = false

        @Option(name: .long, help: "PBKDF2 iterations (at least 4096).")
        var iterations = ScramCredentials.minimumIterations

        func validate() throws {
            guard UserRecord.isValidName(name) else {
                throw ValidationError("user names are 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
            }
            guard iterations >= ScramCredentials.minimumIterations else {
                throw ValidationError("--iterations must be at least \(ScramCredentials.minimumIterations)")
            }
        }

        func run() throws {
            let password = try readPassword()
            let credentials = ScramCredentials.derive(password: password, salt: SecureRandom.bytes(16), iterations: iterations)
            let text: String
            do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
                throw ValidationError("cannot read \(config): \(error.localizedDescription)")
            }
            let existing = try? ConfigFile(path: config)
            let previous = existing?.users[name]
            let record = UserRecord(name: name, credentials: credentials, readOnly: readOnly, root: previous?.root, quota: previous?.quota,
                                    rateLimit: previous?.rateLimit)
            let updated = IniFile.replacingSection("user.\(name)", in: text, with: ConfigFile.userSection(for: record))
            do { try updated.write(toFile: config, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("cannot write \(config): \(error.localizedDescription)")
            }
            let verb = existing?.users[name] == nil ? "added" : "replaced"
            print("\(verb) user \(name)\(readOnly ? " (read-only)" : "") in \(config)")
        }

        private func readPassword() throws -> String {
            // Ctrl-C at the prompt must not leave the terminal without echo.
            Signals.onTermination { signal in
                Terminal.restoreEcho()
                Terminal.write("\n", to: Terminal.standardError)
                Signals.exitImmediately(128 + signal)
            }
            if !Terminal.isTerminal(Terminal.standardInput) {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("no password on standard input")
                }
                return line
            }
            guard let first = Terminal.readSecret(prompt: "Password for \(name): "), !first.isEmpty else {
                throw ValidationError("empty password")
            }
            guard let second = Terminal.readSecret(prompt: "Again: "), second == first else {
                throw ValidationError("the passwords do not match")
            }
            return first
        }
    }
}

extension Ferryd {
    /// `ferryd fingerprint`: the key clients pin, alone on one line, for an administrator to hand out.
    struct Fingerprint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fingerprint",
            abstract: "Print the fingerprint of the server's TLS key (made first, as at a first start, if there is none yet)."
        )

        @Option(name: .long, help: "The configuration file.")
        var config = "config.ini"

        func run() throws {
            let file: ConfigFile
            do { file = try ConfigFile(path: config) } catch { throw ValidationError("\(error)") }
            guard case .on(let certificate, let privateKey, let createIfMissing) = file.configuration.tls else {
                Terminal.write("ferryd: \(config) has [tls] enabled = false: clients connect in clear text, with no key to check\n",
                               to: Terminal.standardError)
                throw ExitCode.failure
            }
            do {
                if createIfMissing { _ = try ServerKeyFiles.createIfMissing(certificate: certificate, privateKey: privateKey) }
                guard let fingerprint = try TLSContext.server(certificate: certificate, privateKey: privateKey).fingerprint else {
                    throw TLSError("certificate \(certificate)", "has no public key")
                }
                print(fingerprint)
            } catch {
                Terminal.write("ferryd: \(error)\n", to: Terminal.standardError)
                throw ExitCode.failure
            }
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

Ferryd.main()
