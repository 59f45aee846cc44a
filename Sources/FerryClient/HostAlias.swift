import FerryTLS
import FerryWire

/// One section of the client's config: `[host NAME]`, the settings for the server asked for as NAME
/// (as an ssh_config `Host` block), or `[defaults]` (also written `[host *]`), those for every server.
public struct HostAlias: Equatable, Sendable {
    /// The alias; nil for `[defaults]`.
    public let name: String?
    public var settings: HostSettings
    /// The line of the section's header, counting from 1.
    public let line: Int

    public init(name: String?, settings: HostSettings, line: Int = 0) {
        self.name = name
        self.settings = settings
        self.line = line
    }

    /// Where a section's paths are taken from: `~` is `home`; known_hosts and ca files are relative
    /// to `directory` (the config file's), the download directory to the current one, as `--dir`.
    public struct Paths: Sendable {
        public let home: String
        public let directory: String

        public init(home: String, directory: String) {
            self.home = home
            self.directory = directory
        }

        func expanding(_ path: String) -> String {
            if path == "~" { return home }
            return path.hasPrefix("~/") ? home + path.dropFirst() : path
        }

        func file(_ path: String) -> String {
            let expanded = expanding(path)
            return expanded.hasPrefix("/") ? expanded : directory + "/" + expanded
        }
    }

    /// Reads `section` (for `name`: nil for `[defaults]`). Every error is one line that starts with
    /// `where(line)`, the file and line it is about (`~/.config/ferry/config:12`).
    public init(name: String?, section: IniFile.Section, paths: Paths,
                where location: (Int) -> String) throws(ClientError) {
        self.name = name
        line = section.line
        let header = "[\(section.name)]"
        func invalid(_ key: String, _ why: String) -> ClientError {
            ClientError("\(location(section.keyLines[key] ?? section.line)): \(key) in \(header) \(why)")
        }
        var settings = HostSettings()
        for key in section.keysInFileOrder {
            let text = section.values[key] ?? ""
            let value: String? = text.isEmpty ? nil : text
            switch key {
            case "address":
                guard name != nil || value == nil else {
                    throw invalid(key, "would send every host to one address: give it in a [host NAME] section")
                }
                settings.address = try value.map { (text) throws(ClientError) in
                    let address = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
                    guard !address.isEmpty, !address.contains(where: { $0.isWhitespace || $0 == "@" || $0 == "/" }) else {
                        throw invalid(key, "must be a host name or an IP address")
                    }
                    return address
                }
            case "port":
                settings.port = try value.map { (text) throws(ClientError) in
                    guard let port = HostTarget.port(parsing: text) else { throw invalid(key, "must be a number from 1 to 65535") }
                    return port
                }
            case "user":
                if let value, value.contains(where: \.isWhitespace) { throw invalid(key, "must be one word") }
                settings.user = value
            case "known_hosts": settings.knownHosts = value.map(paths.file)
            case "fingerprint":
                if let value, KeyFingerprint(parsing: value) == nil {
                    throw invalid(key, "must be SHA256: and 43 base64 characters, as `ferryd fingerprint` prints")
                }
                settings.fingerprint = value
            case "ca": settings.ca = value.map { $0 == "system" ? $0 : paths.file($0) }
            case "strict": settings.strict = try Self.boolean(value) { invalid(key, "must be true or false") }
            case "tls": settings.tls = try Self.boolean(value) { invalid(key, "must be true or false") }
            case "quiet": settings.quiet = try Self.boolean(value) { invalid(key, "must be true or false") }
            case "timeout":
                settings.timeout = try value.map { (text) throws(ClientError) in
                    guard let seconds = Double(text), seconds > 0, seconds <= 86_400 * 365 else {
                        throw invalid(key, "must be a number of seconds above 0")
                    }
                    return seconds
                }
            case "dir": settings.dir = value.map(paths.expanding)
            case "limit_rate":
                if let value, ByteCount.parse(value) == nil {
                    throw invalid(key, "must be bytes per second, optionally with K, M or G (1024s), such as 500K")
                }
                settings.limitRate = value
            default:
                throw ClientError("\(location(section.keyLines[key] ?? section.line)): unknown key \"\(key)\" in \(header)")
            }
        }
        switch settings.trustConflict {
        case .clearTextWithCheck:
            throw ClientError("\(location(section.keyLines["tls"] ?? section.line)): tls = false in \(header) cannot go with "
                              + "fingerprint, ca, strict or known_hosts: without TLS there is no key to check")
        case .authorityAndFingerprint:
            let later = [section.keyLines["ca"] ?? 0, section.keyLines["fingerprint"] ?? 0].max() ?? section.line
            throw ClientError("\(location(later)): ca and fingerprint in \(header) are two ways to trust a server: give one")
        case nil:
            break
        }
        self.settings = settings
    }

    private static func boolean(_ value: String?, else invalid: () -> ClientError) throws(ClientError) -> Bool? {
        guard let value else { return nil }
        guard let flag = IniFile.boolean(value) else { throw invalid() }
        return flag
    }
}
