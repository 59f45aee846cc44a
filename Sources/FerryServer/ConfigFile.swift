import FerryCrypto
import FerryTransport
import Foundation

/// config.ini: the `[server]` section maps to ``ServerConfiguration``, each `[user.NAME]` section to a
/// ``UserRecord``. Relative paths are relative to the directory holding the file.
public struct ConfigFile: Sendable {
    public let path: String
    public var configuration: ServerConfiguration
    public var users: UserStore

    /// A problem with the file, naming the key and what is wrong.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Reads and checks `path`.
    public init(path: String) throws {
        self.path = path
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid("cannot read \(path): \((error as NSError).localizedDescription)")
        }
        let ini: IniFile
        do { ini = try IniFile(parsing: text) } catch { throw Invalid("\(path): \(error)") }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        let server = ini.section("server")?.values ?? [:]
        var reader = KeyReader(values: server, section: "server", file: path)
        var configuration = ServerConfiguration(root: Self.absolute(reader.string("root") ?? "share", base: base))
        configuration.host = reader.string("listen") ?? configuration.host
        configuration.port = try reader.integer("port", in: 0...65535) ?? configuration.port
        configuration.chunkSize = try reader.integer("chunk_size", in: 4096...(16 << 20)) ?? configuration.chunkSize
        configuration.maxConnections = try reader.integer("max_connections", in: 1...1_000_000) ?? configuration.maxConnections
        configuration.maxConnectionsPerAddress = try reader.integer("max_connections_per_address", in: 1...1_000_000)
            ?? configuration.maxConnectionsPerAddress
        configuration.maxPendingLogins = try reader.integer("max_pending_logins", in: 1...1_000_000)
            ?? configuration.maxPendingLogins
        configuration.maxPendingLoginsPerAddress = try reader.integer("max_pending_logins_per_address", in: 1...1_000_000)
            ?? configuration.maxPendingLoginsPerAddress
        configuration.loginTimeout = try reader.duration("login_timeout") ?? configuration.loginTimeout
        configuration.idleTimeout = try reader.duration("idle_timeout") ?? configuration.idleTimeout
        configuration.stallTimeout = try reader.duration("stall_timeout") ?? configuration.stallTimeout
        configuration.failedLoginDelay = try reader.duration("failed_login_delay") ?? configuration.failedLoginDelay
        configuration.shutdownGrace = try reader.duration("shutdown_grace") ?? configuration.shutdownGrace
        configuration.maxFrameLength = try reader.integer("max_header_size", in: 256...65536) ?? configuration.maxFrameLength
        configuration.maxListEntries = try reader.integer("max_list_entries", in: 1...10_000_000) ?? configuration.maxListEntries
        configuration.banThreshold = try reader.integer("ban_threshold", in: 0...1_000_000) ?? configuration.banThreshold
        configuration.banWindow = try reader.duration("ban_window") ?? configuration.banWindow
        configuration.banDuration = try reader.duration("ban_duration") ?? configuration.banDuration
        configuration.transferLog = reader.string("transfer_log").map { Self.absolute($0, base: base) }
        configuration.cacheDirectory = Self.absolute(reader.string("cache_dir") ?? ".ferry-cache", base: base)
        configuration.uploadResumeTimeout = try reader.duration("upload_resume_timeout") ?? configuration.uploadResumeTimeout
        configuration.maxRate = try reader.byteRate("max_rate")
        try reader.rejectUnknown()
        configuration.tls = try Self.tls(ini.section("tls")?.values ?? [:], base: base, file: path)
        self.configuration = configuration

        var users: [UserRecord] = []
        for section in ini.sections where section.name.hasPrefix("user.") {
            users.append(try Self.user(section, base: base, file: path))
        }
        for section in ini.sections where !["server", "tls"].contains(section.name) && !section.name.hasPrefix("user.") {
            throw Invalid("\(path): unknown section [\(section.name)]")
        }
        self.users = UserStore(users)
    }

    /// The `[tls]` section: on unless `enabled = false`; the key and certificate default to ferryd.key and
    /// ferryd.crt beside the configuration file, made on first start. Naming only one of them is an error.
    private static func tls(_ values: [String: String], base: URL, file: String) throws -> TLSSetting {
        var reader = KeyReader(values: values, section: "tls", file: file)
        let enabled = try reader.boolean("enabled") ?? true
        let certificate = reader.string("certificate").map { absolute($0, base: base) }
        let privateKey = reader.string("private_key").map { absolute($0, base: base) }
        try reader.rejectUnknown()
        guard enabled else { return .off }
        switch (certificate, privateKey) {
        case (nil, nil):
            return .on(certificate: absolute(defaultCertificate, base: base), privateKey: absolute(defaultPrivateKey, base: base),
                       createIfMissing: true)
        case (let certificate?, let privateKey?):
            return .on(certificate: certificate, privateKey: privateKey, createIfMissing: false)
        default:
            throw Invalid("\(file): [tls] certificate and private_key go together: give both, or neither for ferryd's own key")
        }
    }

    /// Where ferryd keeps the key it makes itself, beside the configuration file.
    public static let defaultCertificate = "ferryd.crt"
    public static let defaultPrivateKey = "ferryd.key"

    private static func user(_ section: IniFile.Section, base: URL, file: String) throws -> UserRecord {
        let name = String(section.name.dropFirst("user.".count))
        guard UserRecord.isValidName(name) else {
            throw Invalid("\(file): [\(section.name)]: user names are 1-64 letters, digits, '.', '_' or '-'")
        }
        var reader = KeyReader(values: section.values, section: section.name, file: file)
        let credentials = ScramCredentials(
            salt: try reader.base64("salt"),
            iterations: try reader.integer("iterations", in: ScramCredentials.minimumIterations...10_000_000)
                ?? ScramCredentials.minimumIterations,
            storedKey: try reader.base64("stored_key", length: 32),
            serverKey: try reader.base64("server_key", length: 32)
        )
        let readOnly = try reader.boolean("read_only") ?? false
        let root = reader.string("root").map { absolute($0, base: base) }
        let quota = try reader.byteCount("quota")
        let rateLimit = try reader.byteRate("rate_limit")
        try reader.rejectUnknown()
        return UserRecord(name: name, credentials: credentials, readOnly: readOnly, root: root, quota: quota, rateLimit: rateLimit)
    }

    /// The lines of a `[user.NAME]` section for these credentials.
    public static func userSection(for user: UserRecord) -> [String] {
        var lines = [
            "salt = \(Data(user.credentials.salt).base64EncodedString())",
            "iterations = \(user.credentials.iterations)",
            "stored_key = \(Data(user.credentials.storedKey).base64EncodedString())",
            "server_key = \(Data(user.credentials.serverKey).base64EncodedString())",
            "read_only = \(user.readOnly)",
        ]
        if let root = user.root { lines.append("root = \(root)") }
        if let quota = user.quota { lines.append("quota = \(quota)") }
        if let rateLimit = user.rateLimit { lines.append("rate_limit = \(rateLimit)") }
        return lines
    }

    static func absolute(_ path: String, base: URL) -> String {
        path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
    }
}

/// Reads typed values out of one section, remembering which keys were used so that a misspelt key is an error.
struct KeyReader {
    let values: [String: String]
    let section: String
    let file: String
    private var used: Set<String> = []

    init(values: [String: String], section: String, file: String) {
        self.values = values
        self.section = section
        self.file = file
    }

    mutating func string(_ key: String) -> String? {
        used.insert(key)
        return values[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(key) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw invalid(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    mutating func duration(_ key: String) throws -> Duration? {
        guard let text = string(key) else { return nil }
        guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 * 365 else {
            throw invalid(key, "must be a number of seconds")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A size in bytes: a whole number, optionally followed by K, M, G or T (powers of 1024).
    mutating func byteCount(_ key: String) throws -> UInt64? {
        guard let text = string(key) else { return nil }
        guard let bytes = ByteCount.parse(text) else {
            throw invalid(key, "must be a number of bytes, optionally with K, M, G or T (such as 10G)")
        }
        return bytes
    }

    /// A rate in bytes per second, written as ``byteCount(_:)``; 0 (or no key) is no limit: nil.
    mutating func byteRate(_ key: String) throws -> UInt64? {
        guard let rate = try byteCount(key) else { return nil }
        return rate == 0 ? nil : rate
    }

    mutating func boolean(_ key: String) throws -> Bool? {
        guard let text = string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw invalid(key, "must be true or false")
        }
    }

    mutating func base64(_ key: String, length: Int? = nil) throws -> [UInt8] {
        guard let text = string(key) else { throw invalid(key, "is missing") }
        guard let data = Data(base64Encoded: text), !data.isEmpty, length == nil || data.count == length else {
            throw invalid(key, "must be base64\(length.map { " of \($0) bytes" } ?? "")")
        }
        return Array(data)
    }

    func rejectUnknown() throws {
        if let unknown = values.keys.sorted().first(where: { !used.contains($0) }) {
            throw ConfigFile.Invalid("\(file): [\(section)]: unknown key \"\(unknown)\"")
        }
    }

    private func invalid(_ key: String, _ why: String) -> ConfigFile.Invalid {
        ConfigFile.Invalid("\(file): [\(section)] \(key) \(why)")
    }
}
