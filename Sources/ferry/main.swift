import ArgumentParser
import FerryClient
import FerryPosix
import FerryTLS
import FerryWire
import Foundation
import Synchronization

/// `ferry`: the Ferry client, one command at a time or as an interactive shell.
struct Ferry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Fetch and send files to a ferryd server, verified chunk by chunk, resumed where they were cut.",
        version: FerryVersion.current,
        subcommands: [
            List.self, Get.self, Put.self, Stat.self, MakeDirectory.self, RemoveDirectory.self, Remove.self, Rename.self,
            DiskUsage.self, Sum.self, ShellCommand.self, Ping.self,
        ]
    )
}

/// Options every command takes. The server, user and trust they name are ranked against the config
/// file and the environment by ``ResolvedHost``: the command line first, then the alias, `[defaults]`,
/// FERRY_* variables and built-in defaults.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Server: a host name, an address ([::1] for IPv6 with a port) or an alias from the config file (default: $FERRY_HOST, else 127.0.0.1).",
        valueName: "[user@]host[:port]"))
    var host: String?

    @Option(name: .long, help: "Server port (default: the alias's, else $FERRY_PORT, else 8912).")
    var port: Int?

    @Option(name: .long, help: "User name (default: the alias's, else $FERRY_USER, else your login name).")
    var user: String?

    @Option(name: .long, help: ArgumentHelp("Client configuration: host aliases and defaults (default: $XDG_CONFIG_HOME/ferry/config).", valueName: "file"))
    var config: String?

    @Flag(name: [.short, .long], help: "No progress line or summary.")
    var quiet = false

    @Option(name: .long, help: "Seconds to wait for the server before giving up (default: 60).")
    var timeout: Double?

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

    /// The server, user and trust chosen by these options, the config file and the environment, or
    /// exits 1 with one line saying what is wrong.
    func resolved() -> ResolvedHost {
        attempt { () throws(ClientError) in
            let commandLine = HostSettings(
                port: port, user: user, knownHosts: knownHosts, fingerprint: fingerprint, strict: strict ? true : nil,
                ca: ca, tls: noTLS ? false : nil, timeout: timeout, quiet: quiet ? true : nil
            )
            return try ResolvedHost(target: host, commandLine: commandLine, config: try ClientConfig.load(path: config),
                                    loginName: NSUserName())
        }
    }

    /// Connects to `target` (what ``resolved()`` chose) and logs in, or prints why not and exits
    /// non-zero. The connection comes with a way to log in again (the shell's reconnect after the
    /// server's idle time-out) without asking twice.
    func open(_ target: ResolvedHost) throws -> (session: ClientSession, reconnect: () throws(ClientError) -> ClientSession) {
        let security = target.security(ask: { server, key, file in firstContact(server, key, file: file) })
        let timeout = Duration.milliseconds(Int64(target.timeout * 1000))
        let session = attempt { () throws(ClientError) in
            try ClientSession.connect(host: target.address, port: target.port, timeout: timeout, security: security)
        }
        guard let password = ProcessInfo.processInfo.environment["FERRY_PASSWORD"] ?? promptForPassword(target) else {
            fail("no password: set FERRY_PASSWORD or run ferry from a terminal")
        }
        let prepare = { (session: ClientSession) throws(ClientError) -> ClientSession in
            try session.login(user: target.user, password: password)
            session.notices = { Terminal.write("ferry: \($0)\n", to: Terminal.standardError) }
            session.localDigests = LocalDigests(path: LocalDigests.defaultPath())
            return session
        }
        _ = attempt { () throws(ClientError) in try prepare(session) }
        return (session, { () throws(ClientError) -> ClientSession in
            try prepare(try ClientSession.connect(host: target.address, port: target.port, timeout: timeout, security: security))
        })
    }

    private func promptForPassword(_ target: ResolvedHost) -> String? {
        guard Terminal.isTerminal(Terminal.standardInput) else { return nil }
        return Terminal.readSecret(prompt: "\(target.user)@\(target.address)'s password: ")
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

    @Flag(name: [.short, .long], help: "Keep the modification time (and, on get, the permission bits).")
    var preserve = false

    @Option(name: .long, help: ArgumentHelp("Move file data at most this many bytes per second; K, M and G mean 1024, 1024² and 1024³ (as curl's --limit-rate).", valueName: "rate"))
    var limitRate: String?

    /// The same choices as shell options.
    var words: [String] {
        (noResume ? ["--no-resume"] : []) + (md5 ? ["--md5"] : []) + (preserve ? ["--preserve"] : [])
            + (limitRate.map { ["--limit-rate", $0] } ?? [])
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

/// The shell's line editor, if it has one, so that a signal that ends ferry mid-line puts the terminal back.
let lineEditor = Mutex<LineEditor?>(nil)

/// Removes the hidden files of downloads in progress when interrupted, then exits as a shell expects.
func installInterruptCleanup() {
    Posix.ignoreSIGPIPE()
    Signals.onTermination { signal in
        // In the shell Ctrl-C cancels the line or the transfer; elsewhere it ends ferry.
        if signal == SIGINT && Interrupts.deliver() { return }
        Terminal.restoreEcho()
        lineEditor.withLock { $0?.restoreTerminal() }
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
        @Option(name: .long, help: "Download directory when no local path is given (default: the config's dir, else downloads).")
        var dir: String?
        @Flag(name: .shortAndLong, help: "Download directories and everything in them, pipelined over one connection.")
        var recursive = false
        @OptionGroup var transfer: TransferFlags

        func run() throws { try runOnce(["get"] + (recursive ? ["-r"] : []) + transfer.words + ["--"] + paths, options, dir: dir) }
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

    struct RemoveDirectory: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rmdir", abstract: "Remove empty remote directories.")
        @OptionGroup var options: ConnectionOptions
        @Argument(help: "Remote directories.")
        var paths: [String]

        func run() throws { try runOnce(["rmdir", "--"] + paths, options) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove remote files (patterns allowed), or with -r directories and everything in them.",
            discussion: "rm -r asks for confirmation on a terminal unless -f is given; without a terminal it needs -f."
        )
        @OptionGroup var options: ConnectionOptions
        @Flag(name: .shortAndLong, help: "Remove directories and everything in them.")
        var recursive = false
        @Flag(name: .shortAndLong, help: "Do not ask.")
        var force = false
        @Argument(help: "Remote paths.")
        var paths: [String]

        func run() throws { try runOnce(["rm"] + (recursive ? ["-r"] : []) + (force ? ["-f"] : []) + ["--"] + paths, options) }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rename",
            abstract: "Rename or move a remote file or directory, atomically (on an S3-backed server: a copy, then a delete).",
            discussion: "An existing NEW is refused unless -f is given; an existing directory NEW receives OLD under its own name.",
            aliases: ["mv"]
        )
        @OptionGroup var options: ConnectionOptions
        @Flag(name: .shortAndLong, help: "Replace an existing NEW.")
        var force = false
        @Argument(help: "Remote path to rename.")
        var old: String
        @Argument(help: "Its new path, or an existing directory to move it into.")
        var new: String

        func run() throws { try runOnce(["rename"] + (force ? ["-f"] : []) + ["--", old, new], options) }
    }

    struct DiskUsage: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "df", abstract: "Show your quota used and left, and the server's free disk space.")
        @OptionGroup var options: ConnectionOptions

        func run() throws { try runOnce(["df"], options) }
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
        @Option(name: .long, help: "Download directory for get without a local path, until lcd names another (default: the config's dir, else downloads).")
        var dir: String?
        @Option(name: .customShort("b"), help: ArgumentHelp("Read the commands from this file, as sftp -b: the first failure stops the run with status 1 (unless the line starts with -).", valueName: "file"))
        var batch: String?

        func run() throws {
            installInterruptCleanup()
            var batchFile: Descriptor?
            if let batch {
                do { batchFile = try File.openForReading(path: batch) } catch { fail("\(batch): \(error.reason)") }
            }
            let target = options.resolved()
            let connection = try options.open(target)
            // On a terminal the line editor (history, Tab completion), else plain lines.
            let onTerminal = batchFile == nil && Terminal.isTerminal(Terminal.standardInput) && Terminal.isTerminal(Terminal.standardOutput)
            let editor = onTerminal ? LineEditor(historyFile: HistoryFile(path: HistoryFile.defaultPath())) : nil
            lineEditor.withLock { $0 = editor }
            let input: any LineInput = editor ?? PlainLineInput(
                descriptor: batchFile?.rawValue ?? Terminal.standardInput,
                interactive: batchFile == nil && Terminal.isTerminal(Terminal.standardInput)
            )
            let shell = configured(Shell(session: connection.session, reconnect: connection.reconnect, input: input,
                                         downloadDirectory: downloadDirectory(dir, target), progress: progressLine(target)), target)
            if let editor { shell.attach(editor) }
            let status = shell.run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// Runs one shell command as a one-shot `ferry COMMAND`, so that both behave alike; a failure is one
/// line on standard error and exit status 1. `dir` is the command's --dir.
func runOnce(_ words: [String], _ options: ConnectionOptions, dir: String? = nil) throws {
    installInterruptCleanup()
    let target = options.resolved()
    let connection = try options.open(target)
    let shell = configured(Shell(session: connection.session, reconnect: connection.reconnect,
                                 input: PlainLineInput(descriptor: Terminal.standardInput, interactive: false),
                                 downloadDirectory: downloadDirectory(dir, target), progress: progressLine(target)), target)
    shell.confirm = { question in
        guard Terminal.isTerminal(Terminal.standardInput) else { return false }
        Terminal.write(question + " (y/n) ", to: Terminal.standardError)
        return ["y", "yes"].contains(readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? "")
    }
    do { _ = try shell.execute(words) } catch { fail(error.message) }
    connection.session.close()
}

/// The download directory, absolute: `given` (--dir), else the config's `dir`, else ./downloads.
func downloadDirectory(_ given: String?, _ target: ResolvedHost) -> String {
    absolute(given ?? target.dir ?? "downloads")
}

/// The progress line, unless the configuration asks for quiet.
func progressLine(_ target: ResolvedHost) -> (any TransferProgress)? {
    target.quiet ? nil : ProgressLine()
}

/// The shell as the client configuration sets it up: the host alias's `limit_rate`, unless an option
/// of the command says otherwise.
func configured(_ shell: Shell, _ target: ResolvedHost) -> Shell {
    if let rate = target.limitRate { shell.transferOptions.limitRate = ByteCount.parse(rate).flatMap { $0 == 0 ? nil : $0 } }
    return shell
}

/// `path` made absolute against the directory ferry started in.
func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

extension Ferry {
    /// `ferry ping`: the server's status over UDP, no login and no TLS (docs/PROTOCOL.md section 11).
    struct Ping: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the server for its status over UDP, as ping does: round trip, version, uptime, sessions, transfers."
        )
        @Option(name: .long, help: ArgumentHelp("Server as [USER@]HOST[:PORT], or a host alias (default: $FERRY_HOST, else 127.0.0.1).", valueName: "host"))
        var host: String?
        @Option(name: .long, help: "Server port; the UDP port is the TCP port's number (default: the alias's, $FERRY_PORT, else 8912).")
        var port: Int?
        @Option(name: .long, help: ArgumentHelp("Client configuration with the host aliases (default: $XDG_CONFIG_HOME/ferry/config).", valueName: "file"))
        var config: String?
        @Option(name: .customShort("c"), help: ArgumentHelp("Probes to send.", valueName: "count"))
        var count = 4
        @Option(name: .customShort("i"), help: ArgumentHelp("Seconds between probes (at least 0.2).", valueName: "seconds"))
        var interval = 1.0
        @Option(name: .long, help: ArgumentHelp("Seconds to wait for each reply.", valueName: "seconds"))
        var timeout = 1.0

        func validate() throws {
            guard count >= 1 else { throw ValidationError("-c must be at least 1") }
            guard interval >= 0.2, interval <= 3600 else { throw ValidationError("-i must be from 0.2 to 3600 seconds") }
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be more than 0 and at most 3600 seconds") }
        }

        func run() throws {
            // The same server the other commands would reach with these options, aliases and $FERRY_*.
            let target = attempt { () throws(ClientError) in
                try ResolvedHost(target: host, commandLine: HostSettings(port: port), config: try ClientConfig.load(path: config),
                                 loginName: NSUserName())
            }
            let client = attempt("ping \(target.address)") { () throws(ClientError) in
                try StatusProbeClient(host: target.address, port: target.port)
            }
            let ping = FerryClient.Ping(count: count, interval: .milliseconds(Int64(interval * 1000)), timeout: .milliseconds(Int64(timeout * 1000)))
            let statistics = attempt("ping \(target.address)") { () throws(ClientError) in
                try ping.run(client) { Terminal.write($0 + "\n", to: Terminal.standardOutput) }
            }
            if statistics.received == 0 { throw ExitCode.failure }
        }
    }
}

/// `ferry [--host H] [--port P] [--user U] COMMAND …` puts connection options before the command, as
/// ssh and sftp do; ArgumentParser wants a subcommand's options after its name, so move them there.
/// With no command at all, `ferry [options]` opens the shell; `ferry [options] [USER@]HOST[:PORT]
/// [options]` opens it there, as `sftp user@host` does.
func commandFirst(_ arguments: [String]) -> [String] {
    let commands = Set(Ferry.configuration.subcommands.flatMap { [$0._commandName] + $0.configuration.aliases } + ["help"])
    let takesValue: Set = ["--host", "--port", "--user", "--timeout", "--dir", "--known-hosts", "--fingerprint", "--ca", "--config", "-b", "--limit-rate"]
    var leading: [String] = []
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if commands.contains(argument) {
            // help takes no connection options: `ferry --port 1 help get` is help about get.
            return [argument] + (argument == "help" ? [] : leading) + arguments[(index + 1)...]
        }
        guard argument.hasPrefix("-"), argument != "--" else {
            return argument == "--" ? arguments : shell(at: argument, options: leading + arguments[(index + 1)...])
        }
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

/// `ferry [USER@]HOST[:PORT]`: the shell, with the first word that is not a command as its `--host`.
func shell(at target: String, options: [String]) -> [String] {
    if options.contains(where: { $0 == "--host" || $0.hasPrefix("--host=") }) {
        fail("\(target) and --host both name the server: give one")
    }
    return ["shell", "--host", target] + options
}

Ferry.main(commandFirst(Array(CommandLine.arguments.dropFirst())))
