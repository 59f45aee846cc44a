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
        subcommands: [List.self, Get.self, Put.self, Stat.self, MakeDirectory.self, Sum.self, ShellCommand.self]
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

    /// Connects and logs in, or prints why not and exits non-zero. The connection comes with a way to
    /// log in again (the shell's reconnect after the server's idle time-out) without asking twice.
    func open() throws -> (session: ClientSession, reconnect: () throws(ClientError) -> ClientSession) {
        let environment = ProcessInfo.processInfo.environment
        let name = user ?? environment["FERRY_USER"] ?? NSUserName()
        let security = security()
        let (host, port, timeout) = (host, port, Duration.milliseconds(Int64(timeout * 1000)))
        let session = attempt { () throws(ClientError) in
            try ClientSession.connect(host: host, port: port, timeout: timeout, security: security)
        }
        guard let password = environment["FERRY_PASSWORD"] ?? promptForPassword(name) else {
            fail("no password: set FERRY_PASSWORD or run ferry from a terminal")
        }
        let prepare = { (session: ClientSession) throws(ClientError) -> ClientSession in
            try session.login(user: name, password: password)
            session.notices = { Terminal.write("ferry: \($0)\n", to: Terminal.standardError) }
            session.localDigests = LocalDigests(path: LocalDigests.defaultPath())
            return session
        }
        _ = attempt { () throws(ClientError) in try prepare(session) }
        return (session, { () throws(ClientError) -> ClientSession in
            try prepare(try ClientSession.connect(host: host, port: port, timeout: timeout, security: security))
        })
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

    @Option(name: .long, help: ArgumentHelp("Move file data at most this many bytes per second; K, M and G mean 1024, 1024² and 1024³ (as curl's --limit-rate).", valueName: "rate"))
    var limitRate: String?

    /// The same choices as shell options.
    var words: [String] {
        (noResume ? ["--no-resume"] : []) + (md5 ? ["--md5"] : []) + (limitRate.map { ["--limit-rate", $0] } ?? [])
    }
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
        // In the shell Ctrl-C cancels the line or the transfer; elsewhere it ends ferry.
        if signal == SIGINT && Interrupts.deliver() { return }
        Terminal.restoreEcho()
        PartialFiles.removeAll()
        Terminal.write("\n", to: Terminal.standardError)
        Signals.exitImmediately(128 + signal)
    }
}

extension Ferry {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List remote directories, or files (a file lists as itself).")
        @OptionGroup var options: ConnectionOptions
        @Argument(help: "Remote directories or files (default: your root).")
        var paths: [String] = []
        @Flag(name: .customShort("l"), help: "Show each file's short content hash too, where the server already has it.")
        var long = false

        func run() throws { try runOnce(["ls"] + (long ? ["-l"] : []) + ["--"] + paths, options) }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Download files, verified chunk by chunk; run it again to resume.",
            discussion: "With several remote files the last argument, if given, must be a local directory. A local path of - writes the verified bytes to standard output; a symlink is written through, a device or pipe written into, never replaced."
        )
        @OptionGroup var options: ConnectionOptions
        @Argument(help: ArgumentHelp("Remote files (directories with -r), then optionally a local file, directory or -.", valueName: "remote... [local]"))
        var paths: [String]
        @Option(name: .long, help: "Download directory when no local path is given.")
        var dir = "downloads"
        @Flag(name: .shortAndLong, help: "Download directories and everything in them, pipelined over one connection.")
        var recursive = false
        @OptionGroup var transfer: TransferFlags

        func run() throws { try runOnce(["get"] + (recursive ? ["-r"] : []) + transfer.words + ["--"] + paths, options, downloads: dir) }
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "put",
            abstract: "Upload files, verified chunk by chunk; run it again to resume.",
            discussion: "Several local files go into the remote directory named last. One file goes into an existing remote directory, or under the remote name given; a second name that is also a local file is refused rather than taken as the new name."
        )
        @OptionGroup var options: ConnectionOptions
        @Argument(help: ArgumentHelp("Local files (directories with -r), then optionally a remote path or directory.", valueName: "local... [remote]"))
        var paths: [String]
        @Flag(name: .shortAndLong, help: "Upload directories and everything in them, creating directories as needed.")
        var recursive = false
        @OptionGroup var transfer: TransferFlags

        func run() throws { try runOnce(["put"] + (recursive ? ["-r"] : []) + transfer.words + ["--"] + paths, options) }
    }

    struct Stat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show remote files' size, time, MD5 and content hash (the server computes them if it has not yet)."
        )
        @OptionGroup var options: ConnectionOptions
        @Argument(help: "Remote paths.")
        var paths: [String]

        func run() throws { try runOnce(["stat", "--"] + paths, options) }
    }

    struct MakeDirectory: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mkdir", abstract: "Create remote directories.")
        @OptionGroup var options: ConnectionOptions
        @Flag(name: .customShort("p"), help: "Create missing parents too; no error if a directory exists.")
        var parents = false
        @Argument(help: "Remote directories.")
        var paths: [String]

        func run() throws { try runOnce(["mkdir"] + (parents ? ["-p"] : []) + ["--"] + paths, options) }
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
        @Option(name: .long, help: "Download directory for get without a local path, until lcd names another.")
        var dir = "downloads"
        @Option(name: .customShort("b"), help: ArgumentHelp("Read the commands from this file, as sftp -b: the first failure stops the run with status 1 (unless the line starts with -).", valueName: "file"))
        var batch: String?

        func run() throws {
            installInterruptCleanup()
            var batchFile: Descriptor?
            if let batch {
                do { batchFile = try File.openForReading(path: batch) } catch { fail("\(batch): \(error.reason)") }
            }
            let input = PlainLineInput(
                descriptor: batchFile?.rawValue ?? Terminal.standardInput,
                interactive: batchFile == nil && Terminal.isTerminal(Terminal.standardInput)
            )
            let connection = try options.open()
            let shell = Shell(session: connection.session, reconnect: connection.reconnect, input: input,
                              downloadDirectory: absolute(dir), progress: options.progress)
            let status = shell.run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// Runs one shell command as a one-shot `ferry COMMAND`, so that both behave alike; a failure is one
/// line on standard error and exit status 1.
func runOnce(_ words: [String], _ options: ConnectionOptions, downloads: String = "downloads") throws {
    installInterruptCleanup()
    let connection = try options.open()
    let shell = Shell(session: connection.session, reconnect: connection.reconnect,
                      input: PlainLineInput(descriptor: Terminal.standardInput, interactive: false),
                      downloadDirectory: absolute(downloads), progress: options.progress)
    shell.confirm = { question in
        guard Terminal.isTerminal(Terminal.standardInput) else { return false }
        Terminal.write(question + " (y/n) ", to: Terminal.standardError)
        return ["y", "yes"].contains(readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? "")
    }
    do { _ = try shell.execute(words) } catch { fail(error.message) }
    connection.session.close()
}

/// `path` made absolute against the directory ferry started in.
func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// `ferry [--host H] [--port P] [--user U] COMMAND …` puts connection options before the command, as
/// ssh and sftp do; ArgumentParser wants a subcommand's options after its name, so move them there.
/// With no command at all, `ferry [options]` opens the shell.
func commandFirst(_ arguments: [String]) -> [String] {
    let commands: Set = ["ls", "get", "put", "stat", "mkdir", "sum", "shell", "help"]
    let takesValue: Set = ["--host", "--port", "--user", "--timeout", "--dir", "--known-hosts", "--fingerprint", "--ca", "-b", "--limit-rate"]
    var leading: [String] = []
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if commands.contains(argument) {
            return [argument] + leading + arguments[(index + 1)...]
        }
        guard argument.hasPrefix("-"), argument != "--" else { return arguments }
        if ["-h", "--help", "--version"].contains(argument) { return arguments }
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
