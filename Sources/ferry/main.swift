import ArgumentParser
import FerryClient
import FerryPosix
import FerryTLS
import FerryWire
import Foundation

/// `ferry`: the Ferry client, one command at a time or as an interactive shell.
struct Ferry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Fetch and send files to a ferryd server, verified chunk by chunk, resumed where they were cut.",
        version: FerryVersion.current,
        subcommands: [List.self, Get.self, Put.self, Stat.self, Sum.self, ShellCommand.self]
    )
}

/// Options every command takes.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Server host name or address.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Server port.")
    var port = 8912

    @Option(name: .long, help: "User name (default: $FERRY_USER, else your login name).")
    var user: String?

    @Flag(name: [.short, .long], help: "No progress line or summary.")
    var quiet = false

    @Option(name: .long, help: "Seconds to wait for the server before giving up.")
    var timeout = 60.0

    @Flag(name: .long, help: "Speak clear text (protocol 1) to a server with [tls] enabled = false. Only on loopback or a network you trust.")
    var noTLS = false

    @Option(name: .long, help: ArgumentHelp("Known server keys (default: $XDG_CONFIG_HOME/ferry/known_hosts).", valueName: "file"))
    var knownHosts: String?

    @Flag(name: .long, help: "Refuse a server whose key is not in known_hosts yet, instead of asking or recording it.")
    var strict = false

    @Option(name: .long, help: ArgumentHelp("Accept only the server key with this fingerprint (SHA256:...); record nothing.", valueName: "SHA256:..."))
    var fingerprint: String?

    @Option(name: .long, help: ArgumentHelp("Verify the server's certificate chain and host name against these CA certificates (a PEM file, or 'system') instead of pinning its key.", valueName: "file|system"))
    var ca: String?

    /// TLS with the trust the options choose, or clear text with --no-tls.
    func security() -> ConnectionSecurity {
        if noTLS {
            if fingerprint != nil || ca != nil || strict || knownHosts != nil {
                fail("--no-tls cannot go with --fingerprint, --ca, --strict or --known-hosts: without TLS there is no key to check")
            }
            return .clearText
        }
        if let ca {
            if fingerprint != nil { fail("--ca and --fingerprint are two ways to trust a server: give one") }
            return .tls(.authorities(file: ca == "system" ? nil : ca))
        }
        if let fingerprint {
            guard let key = KeyFingerprint(parsing: fingerprint) else {
                fail("--fingerprint \(fingerprint): expected SHA256: and 43 base64 characters, as `ferryd fingerprint` prints")
            }
            return .tls(.fingerprint(key))
        }
        let file = KnownHosts(path: knownHosts ?? KnownHosts.defaultPath())
        return .tls(.knownHosts(file, strict: strict, ask: { server, key in firstContact(server, key, file: file.path) }))
    }

    /// Connects and logs in, or prints why not and exits non-zero.
    func open() throws -> ClientSession {
        let environment = ProcessInfo.processInfo.environment
        let name = user ?? environment["FERRY_USER"] ?? NSUserName()
        let security = security()
        let session = attempt { () throws(ClientError) in
            try ClientSession.connect(host: host, port: port, timeout: .milliseconds(Int64(timeout * 1000)), security: security)
        }
        guard let password = environment["FERRY_PASSWORD"] ?? promptForPassword(name) else {
            fail("no password: set FERRY_PASSWORD or run ferry from a terminal")
        }
        attempt { () throws(ClientError) in try session.login(user: name, password: password) }
        session.notices = { Terminal.write("ferry: \($0)\n", to: Terminal.standardError) }
        session.localDigests = LocalDigests(path: LocalDigests.defaultPath())
        return session
    }

    var progress: (any TransferProgress)? { quiet ? nil : ProgressLine() }

    private func promptForPassword(_ name: String) -> String? {
        guard Terminal.isTerminal(Terminal.standardInput) else { return nil }
        return Terminal.readSecret(prompt: "\(name)@\(host)'s password: ")
    }
}

/// A server met for the first time: on a terminal, ask as ssh does; otherwise say so and go on (ssh's
/// accept-new). Either way the key is recorded only after the login succeeds.
@Sendable func firstContact(_ server: String, _ key: KeyFingerprint, file: String) -> Bool {
    guard Terminal.isTerminal(Terminal.standardInput) else {
        Terminal.write("ferry: first contact with \(server); its key \(key) will be recorded in \(file) once the login succeeds\n",
                       to: Terminal.standardError)
        return true
    }
    Terminal.write("""
        The authenticity of the ferry server \(server) can't be established.
        Its key fingerprint is \(key).
        Compare it with what `ferryd fingerprint` prints on the server.
        Are you sure you want to continue connecting (yes/no)? 
        """, to: Terminal.standardError)
    while true {
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        if answer == "yes" { return true }
        if answer == "no" { return false }
        Terminal.write("Please type 'yes' or 'no': ", to: Terminal.standardError)
    }
}

/// How get and put check and resume, as the options say.
struct TransferFlags: ParsableArguments {
    @Flag(name: .long, help: "Start over instead of resuming an earlier attempt's verified chunks.")
    var noResume = false

    @Flag(name: .long, help: "Check the whole file's MD5 as well (slower; SHA-256 of every chunk is always checked).")
    var md5 = false

    var options: TransferOptions { TransferOptions(resume: !noResume, md5: md5) }
}

/// Runs a client operation; on failure prints one line, "ferry: what: why", and exits 1.
func attempt<T>(_ context: String = "", _ body: () throws(ClientError) -> T) -> T {
    do {
        return try body()
    } catch {
        let what = context.isEmpty ? "" : context + ": "
        let why = error.code == .notFound ? "no such file or directory on the server" : error.message
        fail(what + why)
    }
}

/// Prints a tree transfer's notices, one line each; the exit status it calls for.
func report(_ notices: [String], failed: Bool) -> Int32 {
    notices.forEach { Terminal.write("ferry: \($0)\n", to: Terminal.standardError) }
    return failed ? 1 : 0
}

func fail(_ message: String) -> Never {
    Terminal.write("ferry: \(message)\n", to: Terminal.standardError)
    Glibc.exit(1)
}

/// Removes the hidden files of downloads in progress when interrupted, then exits as a shell expects.
func installInterruptCleanup() {
    Posix.ignoreSIGPIPE()
    Signals.onTermination { signal in
        Terminal.restoreEcho()
        PartialFiles.removeAll()
        Terminal.write("\n", to: Terminal.standardError)
        Signals.exitImmediately(128 + signal)
    }
}

extension Ferry {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a remote directory.")
        @OptionGroup var options: ConnectionOptions
        @Argument(help: "Remote directory (default: your root).")
        var path = ""
        @Flag(name: .customShort("l"), help: "Show each file's short content hash too, where the server already has it.")
        var long = false

        func run() throws {
            installInterruptCleanup()
            let session = try options.open()
            let listing = attempt("ls \(path)") { () throws(ClientError) in try session.list(path) }
            ListingFormat.lines(listing.entries, hashes: long).forEach { print($0) }
            if listing.truncated { print("(listing cut short by the server's limit)") }
            session.close()
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Download a file, verified chunk by chunk; run it again to resume.")
        @OptionGroup var options: ConnectionOptions
        @Argument(help: "Remote file (a directory with -r).")
        var remote: String
        @Argument(help: "Local file or existing directory (default: the download directory).")
        var local: String?
        @Option(name: .long, help: "Download directory when LOCAL is not given.")
        var dir = "downloads"
        @Flag(name: .shortAndLong, help: "Download a directory and everything in it, pipelined over one connection.")
        var recursive = false
        @OptionGroup var transfer: TransferFlags

        func run() throws {
            installInterruptCleanup()
            let session = try options.open()
            let progress = options.progress
            let wire = RemotePath.wire(RemotePath.resolve(remote, from: "/"))
            var status: Int32 = 0
            attempt("get \(remote)") { () throws(ClientError) in
                if recursive {
                    let target = try LocalDestination.resolveTree(remote: wire, local: local, downloadDirectory: dir)
                    let result = try session.downloadTree(wire, to: target, progress: progress, options: transfer.options)
                    status = report(result.notices, failed: !result.failures.isEmpty)
                } else {
                    let destination = try LocalDestination.resolve(remote: remote, local: local, downloadDirectory: dir)
                    _ = try session.download(remote, to: destination, progress: progress, options: transfer.options)
                }
            }
            session.close()
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "put", abstract: "Upload a file, verified chunk by chunk; run it again to resume.")
        @OptionGroup var options: ConnectionOptions
        @Argument(help: "Local file (a directory with -r).")
        var local: String
        @Argument(help: "Remote path (default: the local file's name in your root; with -r, an existing directory receives a copy).")
        var remote: String?
        @Flag(name: .shortAndLong, help: "Upload a directory and everything in it, creating directories as needed.")
        var recursive = false
        @OptionGroup var transfer: TransferFlags

        func run() throws {
            installInterruptCleanup()
            let session = try options.open()
            let progress = options.progress
            var status: Int32 = 0
            attempt("put \(local)") { () throws(ClientError) in
                guard let name = LocalDestination.fileName(forRemote: local) else { throw ClientError("does not name a file") }
                if recursive {
                    let target = try RemotePath.treeTarget(local: name, remote: remote, session: session)
                    let result = try session.uploadTree(local, to: target, progress: progress, options: transfer.options)
                    status = report(result.notices, failed: !result.failures.isEmpty)
                } else {
                    _ = try session.upload(local, to: remote ?? name, progress: progress, options: transfer.options)
                }
            }
            session.close()
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct Stat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a remote file's size, time, MD5 and content hash (the server computes them if it has not yet)."
        )
        @OptionGroup var options: ConnectionOptions
        @Argument(help: "Remote path.")
        var path: String

        func run() throws {
            installInterruptCleanup()
            let session = try options.open()
            let progress = options.progress
            attempt("stat \(path)") { () throws(ClientError) in
                let entry = try session.stat(path)
                var manifest: RemoteManifest?
                if entry.kind == .file && session.chunked {
                    manifest = try session.manifest(of: path, md5: true, progress: progress)
                }
                StatFormat.lines(path: path, entry: entry, manifest: manifest).forEach { print($0) }
            }
            session.close()
        }
    }

    struct Sum: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the content hash and MD5 of local files, as `ferry stat` shows them for remote ones."
        )
        @Argument(help: "Local files.")
        var files: [String]

        func run() throws {
            installInterruptCleanup()
            let digests = LocalDigests(path: LocalDigests.defaultPath())
            var status: Int32 = 0
            for path in files {
                do {
                    print(try LocalSum.line(for: path, cache: digests))
                } catch {
                    Terminal.write("ferry: sum \(path): \(error.message)\n", to: Terminal.standardError)
                    status = 1
                }
            }
            digests.save()
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct ShellCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "shell", abstract: "Interactive prompt (the default).")
        @OptionGroup var options: ConnectionOptions
        @Option(name: .long, help: "Download directory for get without a local path.")
        var dir = "downloads"

        func run() throws {
            installInterruptCleanup()
            let session = try options.open()
            let downloads = dir.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
            let shell = Shell(
                session: session, downloadDirectory: downloads, progress: options.progress,
                interactive: Terminal.isTerminal(Terminal.standardInput)
            )
            let status = shell.run()
            session.close()
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// `ferry [--host H] [--port P] [--user U] COMMAND …` puts connection options before the command, as
/// ssh and sftp do; ArgumentParser wants a subcommand's options after its name, so move them there.
/// With no command at all, `ferry [options]` opens the shell.
func commandFirst(_ arguments: [String]) -> [String] {
    let commands: Set = ["ls", "get", "put", "stat", "sum", "shell", "help"]
    let takesValue: Set = ["--host", "--port", "--user", "--timeout", "--dir", "--known-hosts", "--fingerprint", "--ca"]
    var leading: [String] = []
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if commands.contains(argument) {
            return [argument] + leading + arguments[(index + 1)...]
        }
        guard argument.hasPrefix("-"), argument != "--" else { return arguments }
        if ["-h", "--help", "--version", "--generate-completion-script", "--experimental-dump-help", "---completion"].contains(where: { argument == $0 || argument.hasPrefix($0 + "=") }) { return arguments }
        leading.append(argument)
        if takesValue.contains(argument), index + 1 < arguments.count {
            leading.append(arguments[index + 1])
            index += 1
        }
        index += 1
    }
    return ["shell"] + leading
}

Ferry.main(commandFirst(Array(CommandLine.arguments.dropFirst())))
