/// Tab completion for the `ferry>` prompt, worked out from the text before the cursor alone (no
/// terminal needed): the first word completes from the command table, later words from a remote or a
/// local directory, chosen by the command and the word's position.
///
/// Remote listings come from a closure (the shell asks the server) and are cached per directory for
/// the session, since each costs a round trip; ``invalidate()`` forgets them after a change. Local
/// directories are read each time. Names starting with "." are offered only when the typed name
/// starts with "." too.
public final class ShellCompletion {
    /// One name in a directory and whether it is a directory (then it completes with a "/").
    public typealias Name = (name: String, isDirectory: Bool)

    /// The names the first word completes to: every command and alias of the shell's table, in the
    /// order `help` lists them (`!` left out: it takes no completion).
    public static let commands = ShellCommandSpec.all.flatMap(\.names).filter { $0 != "!" }

    /// Where an argument names a file.
    enum Side: Equatable { case remote, local }

    private let remoteWorkingDirectory: () -> String
    private let listRemote: (String) -> [Name]?
    private let listLocal: (String) -> [Name]?
    private var cache: [String: [Name]] = [:]

    /// - Parameters:
    ///   - remoteWorkingDirectory: the shell's remote directory ("/"-rooted), which relative names start from.
    ///   - listRemote: the names in a remote directory, given as an absolute "/"-rooted path; nil when
    ///     it cannot be listed.
    ///   - listLocal: the names in a local directory (a path as typed, "~" expanded, "." for the working
    ///     directory).
    public init(remoteWorkingDirectory: @escaping () -> String = { "/" },
                listRemote: @escaping (_ directory: String) -> [Name]?,
                listLocal: @escaping (_ directory: String) -> [Name]? = LocalNames.list) {
        self.remoteWorkingDirectory = remoteWorkingDirectory
        self.listRemote = listRemote
        self.listLocal = listLocal
    }

    /// Forgets every remote listing: call it after anything that may change the remote side.
    public func invalidate() {
        cache.removeAll()
    }

    /// What Tab should do with `lineBeforeCursor`.
    public func complete(_ lineBeforeCursor: String) -> Completion {
        let line = PartialCommandLine(lineBeforeCursor)
        guard let command = line.words.first else {
            let matches: [Name] = Self.commands.filter { $0.hasPrefix(line.current) }.map { ($0, false) }
            return Self.completion(of: line.current, among: matches, openQuote: line.openQuote)
        }
        guard !line.current.hasPrefix("-") else { return .none }
        let position = line.words.dropFirst().filter { !$0.hasPrefix("-") }.count
        guard let side = Self.side(of: command, position: position) else { return .none }

        let slash = line.current.lastIndex(of: "/")
        let typedDirectory = slash.map { String(line.current[...$0]) } ?? ""
        let prefix = slash.map { String(line.current[line.current.index(after: $0)...]) } ?? line.current
        let localDirectory = Shell.expandingTilde(typedDirectory.isEmpty ? "." : typedDirectory)
        guard let names = side == .remote ? remoteNames(typedDirectory) : listLocal(localDirectory) else { return .none }
        let showHidden = prefix.hasPrefix(".")
        let matches = names.filter { $0.name.hasPrefix(prefix) && (showHidden || !$0.name.hasPrefix(".")) }
        return Self.completion(of: prefix, among: matches.sorted { $0.name < $1.name }, openQuote: line.openQuote)
    }

    /// Whether the argument at `position` (counting from 0, flags left out) of `command` names a remote
    /// or a local file; nil when it names neither.
    static func side(of command: String, position: Int) -> Side? {
        switch command {
        case "ls", "dir", "cd", "stat", "mget", "mkdir", "rmdir", "rm", "rename", "mv": return .remote
        case "mput", "lcd", "lls", "lmkdir", "lrm": return .local
        case "get": return position == 0 ? .remote : .local
        case "put": return position == 0 ? .local : .remote
        default: return nil
        }
    }

    /// The names in the remote directory `typed` (as typed, "" for the working directory), from the
    /// cache or the server.
    private func remoteNames(_ typed: String) -> [Name]? {
        let directory = RemotePath.resolve(typed, from: remoteWorkingDirectory())
        if let known = cache[directory] { return known }
        guard let names = listRemote(directory) else { return nil }
        cache[directory] = names
        return names
    }

    /// The completion of `prefix` given the names that start with it: the rest of a unique name (a
    /// directory with "/", anything else closed with a space), else what all of them share.
    static func completion(of prefix: String, among matches: [Name], openQuote: Character?) -> Completion {
        guard let first = matches.first else { return .none }
        if matches.count == 1 {
            let rest = escape(String(first.name.dropFirst(prefix.count)), openQuote: openQuote)
            return Completion(insert: rest + (first.isDirectory ? "/" : (openQuote.map(String.init) ?? "") + " "))
        }
        var shared = Array(first.name)
        for match in matches.dropFirst() {
            shared = Array(zip(shared, match.name).prefix { $0 == $1 }.map(\.0))
        }
        let insert = escape(String(shared.dropFirst(prefix.count)), openQuote: openQuote)
        return Completion(insert: insert, candidates: matches.map { $0.isDirectory ? $0.name + "/" : $0.name })
    }

    /// `text` as it must be typed after what is already there: outside quotes, white space, quotes and
    /// backslashes get a backslash; inside double quotes, `"` and `\` do; inside single quotes, a `'`
    /// closes the quote, is escaped and opens it again.
    static func escape(_ text: String, openQuote: Character?) -> String {
        var escaped = ""
        for character in text {
            switch openQuote {
            case nil:
                if character.isWhitespace || character == "'" || character == "\"" || character == "\\" { escaped.append("\\") }
                escaped.append(character)
            case .some("\""):
                if character == "\"" || character == "\\" { escaped.append("\\") }
                escaped.append(character)
            default:
                escaped += character == "'" ? "'\\''" : String(character)
            }
        }
        return escaped
    }
}
