import FerryPosix
import FerryTransport
import FerryWire
import Foundation

/// The interactive `ferry>` prompt, after OpenSSH's sftp: one login for the whole session, a remote
/// working directory kept on the client, local commands prefixed with "l", and `!` for a local shell.
/// The one-shot commands (`ferry get …`) run through the same ``execute(_:)``, so both behave alike.
///
/// The connection is re-opened by itself when the server closed it (its idle time-out) or Ctrl-C cut
/// a transfer, keeping the remote directory. When input is not a terminal the shell runs as a batch,
/// like `sftp -b`: no prompt, and the first failing command stops it with a non-zero status, unless the
/// line starts with `-`.
public final class Shell {
    private var current: ClientSession?
    private let reconnect: () throws(ClientError) -> ClientSession
    let input: any LineInput
    let progress: (any TransferProgress)?
    /// Remote working directory, "/"-rooted.
    var cwd = "/"
    /// Where gets land when no local path is given: the download directory until `lcd` names another.
    var localDirectory: String
    /// How transfers check and resume unless a command's options say otherwise.
    public var transferOptions = TransferOptions()
    /// Called after every command that changed something on the server (completion drops its cache).
    public var onRemoteChange: () -> Void = {}
    /// Asks a yes/no question (rm -r); by default at the prompt, and a batch run takes the answer as no.
    public var confirm: (String) -> Bool

    /// A shell over `session`; `reconnect` opens and logs in a new one when that one is gone.
    public init(session: ClientSession, reconnect: @escaping () throws(ClientError) -> ClientSession,
                input: any LineInput, downloadDirectory: String, progress: (any TransferProgress)?) {
        current = session
        self.reconnect = reconnect
        self.input = input
        self.localDirectory = downloadDirectory
        self.progress = progress
        confirm = { [input] question in
            guard input.isInteractive, case .line(let answer) = input.readLine(prompt: question + " (y/n) ") else { return false }
            return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
        }
    }

    /// Reads and runs commands until `bye` or end of input. Returns the exit status.
    public func run() -> Int32 {
        if input.isInteractive, let session = current {
            print("Connected to \(session.hello.server) as \(session.user ?? "?")\(session.readOnly ? " (read-only)" : ""). Type help for commands.")
        }
        defer { current?.close() }
        while true {
            let read = readLine()
            guard case .line(let line) = read else {
                if read == .interrupted { continue }
                if input.isInteractive { print("") }
                return 0
            }
            if !input.isInteractive {
                print("ferry> \(line)")
                Terminal.flushStandardOutput()
            }
            // As in sftp -b, a leading "-" lets a command fail without ending the batch.
            let mayFail = line.hasPrefix("-")
            let text = mayFail ? String(line.dropFirst()) : line
            do {
                let words = try Self.words(of: text)
                if words.isEmpty { continue }
                // On a terminal Ctrl-C never ends the shell: a local command's child gets it, a
                // transfer stops (see remote(_:)).
                if input.isInteractive { Interrupts.route {} }
                defer { Interrupts.clear() }
                defer { Terminal.flushStandardOutput() }
                if try !execute(words) { return 0 }
            } catch {
                Terminal.flushStandardOutput()
                Terminal.write("ferry: \(error.message)\n", to: Terminal.standardError)
                if !input.isInteractive && !mayFail { return 1 }
            }
        }
    }

    private func readLine() -> LineRead {
        guard input.isInteractive else { return input.readLine(prompt: "") }
        let box = UncheckedSendable(input)  // LineInput.interrupt() is safe from any thread
        Interrupts.route { box.value.interrupt() }
        defer { Interrupts.clear() }
        return input.readLine(prompt: "ferry> ")
    }

    /// The words of a command line; `!rest` is the command `!` with the rest as one word.
    static func words(of line: String) throws(ClientError) -> [String] {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.hasPrefix("!") { return ["!", String(trimmed.dropFirst())] }
        do { return try ShellWords.split(line) } catch { throw ClientError("\(error)") }
    }

    /// Runs one command; false means the shell should end.
    public func execute(_ words: [String]) throws(ClientError) -> Bool {
        guard let name = words.first else { return true }
        guard let spec = ShellCommandSpec.named(name) else {
            throw ClientError("\(name): unknown command; type help for the list")
        }
        if spec.name == "!" {
            try runLocalShell(words.count > 1 ? words[1] : "")
            return true
        }
        if spec.name == "lls" {
            try listLocal(Array(words.dropFirst()))
            return true
        }
        do {
            return try execute(spec, ShellArguments(Array(words.dropFirst()), for: spec))
        } catch {
            // Every refusal names its command.
            if error.message.hasPrefix(spec.name + " ") || error.message.hasPrefix(spec.name + ":") || error.message.hasPrefix("usage:") { throw error }
            throw ClientError("\(spec.name) \(error.message)", code: error.code)
        }
    }

    private func execute(_ spec: ShellCommandSpec, _ arguments: ShellArguments) throws(ClientError) -> Bool {
        switch spec.name {
        case "ls": try list(arguments)
        case "cd": try changeDirectory(arguments.operands.first)
        case "pwd": print("Remote working directory: \(cwd)")
        case "stat": try status(arguments.operands)
        case "get": try get(arguments)
        case "mget": try getMatching(arguments.operands, options: arguments)
        case "put": try put(arguments)
        case "mput": try putMatching(arguments.operands, options: arguments)
        case "mkdir": try makeDirectories(arguments)
        case "rmdir": try removeDirectories(arguments.operands)
        case "rm": try remove(arguments)
        case "rename": try rename(arguments)
        case "df": try diskUsage()
        case "lcd": try changeLocalDirectory(arguments.operands.first)
        case "lpwd": print("Local working directory: \(FileManager.default.currentDirectoryPath) (gets land in \(localDirectory))")
        case "lmkdir": try makeLocalDirectories(arguments.operands, parents: arguments.has("p"))
        case "lrm": try removeLocal(arguments.operands)
        case "limit-rate": try limitRate(arguments.operands.first)
        case "help": try help(arguments.operands.first)
        case "bye": return false
        default: throw ClientError("\(spec.name): not available here")
        }
        return true
    }

    private func help(_ name: String?) throws(ClientError) {
        guard let name else { return print(ShellCommandSpec.helpText) }
        guard let spec = ShellCommandSpec.named(name) else { throw ClientError("help: \(name): no such command") }
        print(spec.helpText)
    }

    // MARK: the connection

    /// The session to run a remote command on: the current one while the server keeps it, else a new
    /// login in the same remote directory (or the root, should that directory be gone).
    func session() throws(ClientError) -> ClientSession {
        if let current, current.isUsable { return current }
        let closed = current != nil
        current?.close()
        current = nil
        let session = try reconnect()
        current = session
        if closed { notice("reconnected to \(session.hello.server) (the server had closed the connection)") }
        if cwd != "/" {
            do throws(ClientError) {
                guard try session.stat(RemotePath.wire(cwd)).kind == .directory else { throw ClientError("", code: .notDirectory) }
            } catch where error.code == .notFound || error.code == .notDirectory {
                notice("\(cwd) is gone; now in /")
                cwd = "/"
            }
        }
        return session
    }

    /// Runs `body` on the session with Ctrl-C routed to it: an interrupt shuts the connection down, the
    /// command fails at once with "interrupted" (a download's verified part stays for a resume), and
    /// the next command logs in again.
    ///
    /// A command whose only answer was the server's time-out notice (it had closed the connection as
    /// the command went out) never ran there: it is run once more on a new login.
    func remote<T>(_ body: (ClientSession) throws(ClientError) -> T) throws(ClientError) -> T {
        do {
            return try interruptible(body)
        } catch where error.code == .timeout && current?.isUsable == false {
            return try interruptible(body)
        }
    }

    private func interruptible<T>(_ body: (ClientSession) throws(ClientError) -> T) throws(ClientError) -> T {
        let session = try session()
        guard input.isInteractive else { return try body(session) }
        let interrupted = InterruptFlag()
        let stop = session.stopper
        Interrupts.route {
            interrupted.set()
            stop()
        }
        defer { Interrupts.route {} }
        do {
            return try body(session)
        } catch {
            guard interrupted.isSet else { throw error }
            progress?.abandon()
            session.close()
            current = nil  // the next command logs in again, without calling it the server's doing
            throw ClientError("interrupted; what was verified is kept: the same command resumes it")
        }
    }

    func notice(_ text: String) {
        Terminal.write("ferry: \(text)\n", to: Terminal.standardError)
    }


    /// An absolute "/"-rooted display path for a remote operand.
    func resolve(_ path: String) -> String { RemotePath.resolve(path, from: cwd) }
}

/// Hands a value that is only used in a thread-safe way (documented where it is used) to a Sendable closure.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
