import FerryCrypto
import FerryPosix
import FerryWire
import Foundation

/// config.ini: the `[server]` section maps to ``ServerConfiguration``, each `[user.NAME]` section to a
/// ``UserRecord``. Relative paths are relative to the directory holding the file.
///
/// Every mistake is an ``Invalid`` naming the file and the line: `config.ini:12: [server] port must be
/// a whole number from 0 to 65535`.
public struct ConfigFile: Sendable {
    /// The file's path, as given.
    public let path: String
    public var configuration: ServerConfiguration
    public var users: UserStore
    /// The text read, as it was.
    public let text: String
    /// The version of the file that was read (device, inode, size, modification time), nil when it was
    /// given as text.
    public let version: FileVersion?
    /// Where each section starts and each key is set, for errors found after reading (a root that
    /// cannot be opened): section name to header line, and section name to key to line.
    private let sectionLines: [String: Int]
    private let keyLines: [String: [String: Int]]

    /// The largest config.ini read: far more than thousands of users need.
    public static let maximumSize = 16 << 20

    /// A problem with the file: where, and what is wrong, for one line on a terminal or in a log.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        /// The file's path, as given.
        public let file: String
        /// The line at fault, counted from 1; nil when the file as a whole is (it cannot be read).
        public let line: Int?
        public let reason: String

        public init(file: String, line: Int?, reason: String) {
            self.file = file
            self.line = line
            self.reason = reason
        }

        /// `PATH:LINE: reason`, or `PATH: reason` when no line is at fault.
        public var description: String { line.map { "\(file):\($0): \(reason)" } ?? "\(file): \(reason)" }
    }

    /// Reads and checks `path`.
    public init(path: String) throws(Invalid) {
        let bytes: [UInt8]
        let status: FileStatus
        do { (bytes, status) = try File.contents(path: path, limit: Self.maximumSize) } catch {
            throw Invalid(file: path, line: nil, reason: "cannot read: \(error.code == EFBIG ? "larger than \(Self.maximumSize >> 20) MiB" : error.reason)")
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw Invalid(file: path, line: nil, reason: "is not UTF-8 text")
        }
        try self.init(path: path, text: text, version: FileVersion(status))
    }

    /// Checks `text` as the contents of `path` (which is not read; relative paths in it are relative to
    /// its directory).
    public init(path: String, text: String) throws(Invalid) {
        try self.init(path: path, text: text, version: nil)
    }

    private init(path: String, text: String, version: FileVersion?) throws(Invalid) {
        self.path = path
        self.text = text
        self.version = version
        let ini: IniFile
        do { ini = try IniFile(parsing: text) } catch {
            throw Invalid(file: path, line: error.line, reason: error.reason)
        }
        var seen: [String: Int] = [:]
        for section in ini.sections {
            if let first = seen[section.name] {
                let what = section.name.hasPrefix("user.") ? "user \(section.name.dropFirst("user.".count))" : "section"
                throw Invalid(file: path, line: section.line, reason: "duplicate [\(section.name)]: this \(what) is already defined at line \(first)")
            }
            seen[section.name] = section.line
            guard ["server", "tls", "storage"].contains(section.name) || section.name.hasPrefix("user.") else {
                throw Invalid(file: path, line: section.line, reason: "unknown section [\(section.name)]")
            }
        }
        sectionLines = seen
        keyLines = Dictionary(uniqueKeysWithValues: ini.sections.map { ($0.name, $0.keyLines) })
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        configuration = try Self.server(ini.section("server"), base: base, file: path)
        configuration.tls = try Self.tls(ini.section("tls"), base: base, file: path)
        configuration.storage = try Self.storage(ini.section("storage"), file: path)
        var users: [UserRecord] = []
        for section in ini.sections where section.name.hasPrefix("user.") {
            users.append(try Self.user(section, base: base, file: path, objectStorage: configuration.storage != .local))
        }
        self.users = UserStore(users)
    }

    /// The `[server]` section (all defaults when there is none).
    private static func server(_ section: IniFile.Section?, base: URL, file: String) throws(Invalid) -> ServerConfiguration {
        var reader = KeyReader(section ?? IniFile.Section(name: "server", values: [:], line: 1), file: file)
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
        configuration.udpStatus = try reader.boolean("udp_status") ?? configuration.udpStatus
        configuration.maxRate = try reader.byteRate("max_rate")
        configuration.trustedProxies = try reader.addressRanges("trusted_proxies") ?? configuration.trustedProxies
        try reader.rejectUnknown()
        return configuration
    }

    /// The `[tls]` section: on unless `enabled = false`; the key and certificate default to ferryd.key and
    /// ferryd.crt beside the configuration file, made on first start. Naming only one of them is an error.
    private static func tls(_ section: IniFile.Section?, base: URL, file: String) throws(Invalid) -> TLSSetting {
        guard let section else {
            return .on(certificate: absolute(defaultCertificate, base: base), privateKey: absolute(defaultPrivateKey, base: base),
                       createIfMissing: true)
        }
        var reader = KeyReader(section, file: file)
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
            let given = section.keyLines["certificate"] ?? section.keyLines["private_key"] ?? section.line
            throw Invalid(file: file, line: given,
                          reason: "[tls] certificate and private_key go together: give both, or neither for ferryd's own key")
        }
    }

    /// Where ferryd keeps the key it makes itself, beside the configuration file.
    public static let defaultCertificate = "ferryd.crt"
    public static let defaultPrivateKey = "ferryd.key"

    /// On object storage a user's `root` is a prefix in the bucket (below `[storage] prefix`), kept as
    /// written, without slashes at either end.
    private static func user(_ section: IniFile.Section, base: URL, file: String, objectStorage: Bool) throws(Invalid) -> UserRecord {
        let name = String(section.name.dropFirst("user.".count))
        guard UserRecord.isValidName(name) else {
            throw Invalid(file: file, line: section.line,
                          reason: "[\(section.name)]: user names are 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
        }
        var reader = KeyReader(section, file: file)
        let credentials = ScramCredentials(
            salt: try reader.base64("salt"),
            iterations: try reader.integer("iterations", in: ScramCredentials.minimumIterations...10_000_000)
                ?? ScramCredentials.minimumIterations,
            storedKey: try reader.base64("stored_key", length: 32),
            serverKey: try reader.base64("server_key", length: 32)
        )
        let readOnly = try reader.boolean("read_only") ?? false
        let root = reader.string("root").map { objectStorage ? $0.split(separator: "/").joined(separator: "/") : absolute($0, base: base) }
        let quota = try reader.byteCount("quota")
        let rateLimit = try reader.byteRate("rate_limit")
        try reader.rejectUnknown()
        return UserRecord(name: name, credentials: credentials, readOnly: readOnly, root: root, quota: quota, rateLimit: rateLimit)
    }

    /// An error about `key` of `section` found after the file was read (a root that cannot be
    /// opened), at the line that sets the key, or at the section's header.
    public func invalid(_ reason: String, key: String, in section: String) -> Invalid {
        Invalid(file: path, line: keyLines[section]?[key] ?? sectionLines[section], reason: reason)
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
        if let quota = user.quota { lines.append("quota = \(ByteCount.text(quota))") }
        if let rateLimit = user.rateLimit { lines.append("rate_limit = \(ByteCount.text(rateLimit))") }
        return lines
    }

    static func absolute(_ path: String, base: URL) -> String {
        path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
    }
}
