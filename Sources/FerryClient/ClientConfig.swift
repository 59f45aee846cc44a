import FerryPosix
import FerryWire
import Foundation

/// The client's configuration file, `$XDG_CONFIG_HOME/ferry/config` (else `~/.config/ferry/config`)
/// or the one `--config` names: host aliases in `[host NAME]` sections, as ssh_config's `Host`
/// blocks, and `[defaults]` (or `[host *]`) for every server. Its syntax is config.ini's (``IniFile``);
/// an unknown section or key is an error naming its line.
public struct ClientConfig: Equatable, Sendable {
    /// The aliases, in the order of the file.
    public let aliases: [HostAlias]
    /// What `[defaults]` says; empty when it is absent.
    public let defaults: HostSettings

    /// No file: no aliases and no defaults.
    public init() {
        aliases = []
        defaults = HostSettings()
    }

    /// Reads the text of the file at `path`; `paths.directory` is taken from `path`. Errors are one line
    /// each, naming the file (with `~` for the home directory) and the line.
    public init(parsing text: String, path: String, home: String) throws(ClientError) {
        let name = Self.displayName(path, home: home)
        func location(_ line: Int) -> String { "\(name):\(line)" }
        let ini: IniFile
        do { ini = try IniFile(parsing: text) } catch { throw ClientError("\(location(error.line)): \(error.reason)") }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let paths = HostAlias.Paths(home: home, directory: (absolute as NSString).deletingLastPathComponent)
        var aliases: [HostAlias] = []
        var defaults: HostAlias?
        for section in ini.sections {
            let words = section.name.split(whereSeparator: \.isWhitespace).map(String.init)
            let aliasName: String?
            switch (words.first ?? "", words.count) {
            case ("defaults", 1):
                aliasName = nil
            case ("host", 2) where words[1] == "*":
                aliasName = nil
            case ("host", 2):
                guard !words[1].contains(where: { "@:[]".contains($0) }) else {
                    throw ClientError("\(location(section.line)): an alias name has no @, :, [ or ] in [\(section.name)]")
                }
                aliasName = words[1]
            case ("host", _):
                throw ClientError("\(location(section.line)): a host section names one alias: [host NAME], not [\(section.name)]")
            default:
                throw ClientError("\(location(section.line)): unknown section [\(section.name)]; sections are [host NAME] and [defaults]")
            }
            let earlier = aliasName.map { name in aliases.first { $0.name == name } } ?? defaults
            if let earlier {
                throw ClientError("\(location(section.line)): [\(section.name)] again (first at line \(earlier.line)): give each once")
            }
            let alias = try HostAlias(name: aliasName, section: section, paths: paths, where: location)
            if aliasName == nil { defaults = alias } else { aliases.append(alias) }
        }
        self.aliases = aliases
        self.defaults = defaults?.settings ?? HostSettings()
    }

    /// Reads `path`, else the default file. A missing default file is no configuration; a missing file
    /// named with `--config` is an error.
    public static func load(path explicit: String?,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(ClientError) -> ClientConfig {
        let home = XDGDirectory.home(environment: environment)
        let path = explicit ?? defaultPath(environment: environment)
        let text: String
        do { text = try read(path) } catch {
            if error.code == ENOENT && explicit == nil { return ClientConfig() }
            throw ClientError("cannot read \(displayName(path, home: home)): \(error.code == ENOENT ? "no such file" : error.reason)")
        }
        return try ClientConfig(parsing: text, path: path, home: home)
    }

    /// The file's text, read through FerryPosix: Foundation refuses `/dev/null`, which `--config`
    /// may name for no configuration at all, as `ssh -F /dev/null` does.
    private static func read(_ path: String) throws(PosixError) -> String {
        let file = try File.openForReading(path: path)
        defer { file.close() }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let offset = Int64(bytes.count)
            let result: Result<Int, PosixError> = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(PosixError) in try File.read(file, into: raw, at: offset) }
            }
            let count = try result.get()
            bytes += buffer[..<count]
            guard count == buffer.count else { break }
            // A configuration file is a few lines; a huge one is a mistake (a wrong path).
            guard bytes.count < 1 << 20 else { throw PosixError(code: EFBIG, function: "read") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `$XDG_CONFIG_HOME/ferry/config`, else `~/.config/ferry/config`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        XDGDirectory.config("config", environment: environment)
    }

    /// The `[host NAME]` section for `name`, if there is one.
    public func alias(named name: String) -> HostAlias? {
        aliases.first { $0.name == name }
    }

    /// `path` as messages show it: `~/…` under the home directory.
    static func displayName(_ path: String, home: String) -> String {
        let prefix = home.hasSuffix("/") ? home : home + "/"
        return home.count > 1 && path.hasPrefix(prefix) ? "~/" + path.dropFirst(prefix.count) : path
    }
}
