/// One option a shell command takes: a letter (`-r`), a long name (`--no-resume`), or both.
public struct ShellOption: Sendable {
    public let letter: Character?
    public let long: String?
    /// What the option's value is called in help (`--limit-rate RATE`); nil for an option without one.
    public let value: String?

    init(_ letter: Character?, _ long: String? = nil, value: String? = nil) {
        self.letter = letter
        self.long = long
        self.value = value
    }

    /// The name the parsed arguments are asked by: the long name if there is one, else the letter.
    var key: String { long ?? letter.map(String.init) ?? "" }
}

/// A command of the shell (and of the one-shot `ferry COMMAND`): its names, its options, how many
/// operands it takes, its usage line and one line about it. `help`, Tab completion and the argument
/// parser all read this table, so they cannot disagree.
public struct ShellCommandSpec: Sendable {
    public let name: String
    public let aliases: [String]
    public let usage: String
    public let summary: String
    let options: [ShellOption]
    let operands: ClosedRange<Int>

    init(_ name: String, aliases: [String] = [], usage: String, _ summary: String, options: [ShellOption] = [],
         operands: ClosedRange<Int> = 0...0) {
        self.name = name
        self.aliases = aliases
        self.usage = usage
        self.summary = summary
        self.options = options
        self.operands = operands
    }

    /// Every name the command answers to.
    public var names: [String] { [name] + aliases }
}

extension ShellCommandSpec {
    static let many = Int.max

    /// Every command, in the order `help` lists them.
    public static let all: [ShellCommandSpec] = [
        ShellCommandSpec("ls", aliases: ["dir"], usage: "ls [-l] [path]...", "list remote directories or files (-l: content hashes)",
                         options: [ShellOption("l")], operands: 0...many),
        ShellCommandSpec("cd", usage: "cd [path]", "change the remote directory (default: the root)", operands: 0...1),
        ShellCommandSpec("pwd", usage: "pwd", "show the remote directory"),
        ShellCommandSpec("stat", usage: "stat path...", "size, time, MD5 and content hash of remote files", operands: 1...many),
        ShellCommandSpec("get", usage: "get [-rp] remote... [local|-]",
                         "download (-r: directories; -: to standard output)",
                         options: transferOptions + [ShellOption("r")], operands: 1...many),
        ShellCommandSpec("mget", usage: "mget [-p] pattern...", "download every remote file the patterns match",
                         options: transferOptions, operands: 1...many),
        ShellCommandSpec("put", usage: "put [-rp] local... [remote]",
                         "upload (-r: directories; several: into remote dir)",
                         options: transferOptions + [ShellOption("r")], operands: 1...many),
        ShellCommandSpec("mput", usage: "mput [-p] pattern...", "upload every local file the patterns match",
                         options: transferOptions, operands: 1...many),
        ShellCommandSpec("mkdir", usage: "mkdir [-p] path...", "create remote directories (-p: with parents)",
                         options: [ShellOption("p")], operands: 1...many),
        ShellCommandSpec("rmdir", usage: "rmdir path...", "remove empty remote directories", operands: 1...many),
        ShellCommandSpec("rm", usage: "rm [-rf] path...", "remove remote files (-r: directories, asks unless -f)",
                         options: [ShellOption("r"), ShellOption("f")], operands: 1...many),
        ShellCommandSpec("rename", aliases: ["mv"], usage: "rename [-f] old new", "rename or move, atomically (-f: replace new); on an S3-backed server a copy then a delete",
                         options: [ShellOption("f")], operands: 2...2),
        ShellCommandSpec("df", usage: "df", "quota used and left, and the server's free space"),
        ShellCommandSpec("lcd", usage: "lcd [path]", "change the local directory, where gets land", operands: 0...1),
        ShellCommandSpec("lpwd", usage: "lpwd", "show the local directory"),
        ShellCommandSpec("lls", usage: "lls [ls-options] [path]...", "list local files (runs ls)", operands: 0...many),
        ShellCommandSpec("lmkdir", usage: "lmkdir [-p] path...", "create local directories", options: [ShellOption("p")], operands: 1...many),
        ShellCommandSpec("lrm", usage: "lrm path...", "remove local files", operands: 1...many),
        ShellCommandSpec("!", usage: "!command", "run a local shell command (! alone: a shell)", operands: 0...many),
        ShellCommandSpec("limit-rate", usage: "limit-rate [RATE|off]",
                         "limit gets and puts to RATE bytes/s from now on (K, M, G: 1024s)", operands: 0...1),
        ShellCommandSpec("help", aliases: ["?"], usage: "help [command]", "this list, or how to use one command", operands: 0...1),
        ShellCommandSpec("bye", aliases: ["exit", "quit"], usage: "bye", "leave (also exit, quit, Ctrl-D)"),
    ]

    static let transferOptions = [ShellOption("p", "preserve"), ShellOption(nil, "no-resume"), ShellOption(nil, "md5"),
                                  ShellOption(nil, "limit-rate", value: "RATE")]

    /// The command called `name` (or an alias of it).
    public static func named(_ name: String) -> ShellCommandSpec? {
        all.first { $0.names.contains(name) }
    }

    /// The whole `help` text: one line per command.
    public static var helpText: String {
        let width = all.map(\.usage.count).max() ?? 0
        var lines = ["Commands (patterns * ? [...] allowed in paths; quote names with spaces: get \"my file.txt\"):"]
        for spec in all {
            lines.append("  " + spec.usage.padding(toLength: width + 2, withPad: " ", startingAt: 0) + spec.summary)
        }
        lines.append("help COMMAND shows a command's options and other names.")
        return lines.joined(separator: "\n")
    }

    /// `help COMMAND`: usage, what it does, its other names.
    public var helpText: String {
        var lines = ["usage: \(usage)", "  \(summary)"]
        let described = options.map { option in
            [option.letter.map { "-\($0)" }, option.long.map { "--\($0)" }].compactMap { $0 }.joined(separator: ", ")
                + (option.value.map { " \($0)" } ?? "")
        }
        if !described.isEmpty { lines.append("  options: \(described.joined(separator: "; "))") }
        if !aliases.isEmpty { lines.append("  also: \(aliases.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}
