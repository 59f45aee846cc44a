import ArgumentParser
import FerryCrypto
import FerryPosix
import FerryServer
import FerryWire
import Foundation

extension Ferryd {
    /// `ferryd adduser NAME`: add or replace a user's SCRAM keys, and what the user may do, in config.ini.
    struct AddUser: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "adduser",
            abstract: "Add or replace a user. The password is read from standard input, or prompted for twice on a terminal.",
            discussion: "A running ferryd lets the user log in at once: it reads config.ini again when it finds it changed."
        )

        @Argument(help: "The user name: 1-64 letters, digits, '.', '_' or '-'.")
        var name: String

        @OptionGroup var options: ConfigOption
        var config: String { options.config }

        @Flag(name: .long, help: "The user may list and download but not upload.")
        var readOnly = false

        @Option(name: .long, help: ArgumentHelp("The user's own root directory, which must exist (default: the server's root, or the user's root so far).", valueName: "dir"))
        var root: String?

        @Option(name: .long, help: ArgumentHelp("Most bytes the files under the user's root may hold: bytes, or with K, M, G or T (such as 10G).", valueName: "size"))
        var quota: String?

        @Flag(name: .long, help: "Accept a password shorter than \(PasswordPrompt.minimumLength) characters.")
        var allowWeak = false

        @Option(name: .long, help: "PBKDF2 iterations (at least 4096).")
        var iterations = ScramCredentials.minimumIterations

        func validate() throws {
            guard UserRecord.isValidName(name) else {
                throw ValidationError("user names are 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
            }
            guard iterations >= ScramCredentials.minimumIterations else {
                throw ValidationError("--iterations must be at least \(ScramCredentials.minimumIterations)")
            }
            if let quota, ByteCount.parse(quota) == nil {
                throw ValidationError("--quota must be a number of bytes, optionally with K, M, G or T (such as 10G), not \"\(quota)\"")
            }
        }

        func run() throws {
            let editor = try ConfigEditor(path: config)
            let rootPath = try root.map(Self.existingDirectory)
            let password = try PasswordPrompt.read(for: name, allowWeak: allowWeak)
            let credentials = ScramCredentials.derive(password: password, salt: SecureRandom.bytes(16), iterations: iterations)
            let previous = editor.file.users[name]
            let record = UserRecord(
                name: name, credentials: credentials, readOnly: readOnly,
                root: rootPath ?? editor.written("root", ofUser: name),
                quota: quota.flatMap(ByteCount.parse) ?? previous?.quota,
                rateLimit: previous?.rateLimit
            )
            try editor.store(record)
            var what: [String] = []
            if readOnly { what.append("read-only") }
            if let root = record.root { what.append("root \(root)") }
            if let quota = record.quota { what.append("quota \(ByteCount.text(quota))") }
            print("\(previous == nil ? "added" : "replaced") user \(name)\(what.isEmpty ? "" : " (\(what.joined(separator: ", ")))") in \(config); a running ferryd takes it at the next login")
        }

        /// `path` made absolute (relative to the working directory, as the shell user means it), once
        /// it is known to be a directory: ferryd would not load a configuration whose root it cannot open.
        static func existingDirectory(_ path: String) throws -> String {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            let status: FileStatus
            do { status = try FileStatus.of(path: absolute) } catch {
                throw OneLine.failure("ferryd: --root \(path): \(error.reason)")
            }
            guard status.kind == .directory else { throw OneLine.failure("ferryd: --root \(path): not a directory") }
            return absolute
        }
    }
}
