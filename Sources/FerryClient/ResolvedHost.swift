import FerryTLS
import Foundation

/// Where and how to connect, once every source has been heard. Each setting comes from the first of
/// these that gives it:
/// 1. the command line: `--host [USER@]HOST[:PORT]` (or `ferry [USER@]HOST[:PORT]`), `--port`, `--user`…;
/// 2. the config file's `[host HOST]` section, when HOST is an alias;
/// 3. its `[defaults]` section;
/// 4. the environment: FERRY_HOST (`[USER@]HOST[:PORT]`, the server when the command line names none),
///    FERRY_PORT, FERRY_USER;
/// 5. the built-in defaults: 127.0.0.1, port 8912, the login name, 60 seconds, known_hosts.
///
/// A port or user written twice in one source (`--host alice@h:1 --port 2`) is refused unless both
/// agree. How the server is trusted is one choice, made by the first source that sets any of tls, ca,
/// fingerprint, known_hosts or strict: clear text for tls false, else the CA, else the fingerprint,
/// else known_hosts, whose file and strictness are then taken setting by setting as the others are.
public struct ResolvedHost: Equatable, Sendable {
    /// How the server's key is checked.
    public enum Trust: Equatable, Sendable {
        /// No TLS (protocol 1).
        case clearText
        /// A chain that verifies against a PEM file of CA certificates, or the system's store for nil.
        case authorities(file: String?)
        /// Exactly this key.
        case fingerprint(KeyFingerprint)
        /// Keys pinned in a known_hosts file.
        case knownHosts(path: String, strict: Bool)
    }

    /// The host name or address connected to: the alias's address, else the host asked for.
    public let address: String
    public let port: Int
    public let user: String
    public let trust: Trust
    /// Seconds to wait for the server.
    public let timeout: Double
    /// The download directory, when a source names one.
    public let dir: String?
    public let quiet: Bool
    /// The rate limit as written in the config, for the code that limits rates.
    public let limitRate: String?
    /// The alias the host asked for is, if it is one.
    public let alias: String?

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8912
    public static let defaultTimeout = 60.0

    /// Ranks the sources. `target` is `--host` as written; `commandLine` holds the other options.
    public init(target: String?, commandLine: HostSettings, config: ClientConfig,
                environment: [String: String] = ProcessInfo.processInfo.environment, loginName: String) throws(ClientError) {
        let asked = try target.map { (text) throws(ClientError) in try Self.parse(text, from: "--host") }
        let command = try Self.merge(asked, into: commandLine, from: "--host", port: "--port", user: "--user")

        var fromEnvironment = HostSettings(user: environment["FERRY_USER"].flatMap { $0.isEmpty ? nil : $0 })
        if let text = environment["FERRY_PORT"], !text.isEmpty {
            guard let port = HostTarget.port(parsing: text) else {
                throw ClientError("FERRY_PORT \"\(text)\": the port must be a number from 1 to 65535")
            }
            fromEnvironment.port = port
        }
        var host = asked?.host ?? Self.defaultHost
        if asked == nil, let text = environment["FERRY_HOST"], !text.isEmpty {
            let named = try Self.parse(text, from: "FERRY_HOST")
            fromEnvironment = try Self.merge(named, into: fromEnvironment, from: "FERRY_HOST", port: "FERRY_PORT", user: "FERRY_USER")
            host = named.host
        }

        let alias = config.alias(named: host)
        let sources = [command, alias?.settings ?? HostSettings(), config.defaults, fromEnvironment]
        func first<Value>(_ setting: KeyPath<HostSettings, Value?>) -> Value? {
            sources.lazy.compactMap { $0[keyPath: setting] }.first
        }

        switch command.trustConflict {
        case .clearTextWithCheck:
            throw ClientError("--no-tls cannot go with --fingerprint, --ca, --strict or --known-hosts: without TLS there is no key to check")
        case .authorityAndFingerprint:
            throw ClientError("--ca and --fingerprint are two ways to trust a server: give one")
        case nil:
            break
        }
        let chooser = sources.first(where: \.saysHowToTrust) ?? HostSettings()
        if chooser.tls == false {
            trust = .clearText
        } else if let ca = chooser.ca {
            trust = .authorities(file: ca == "system" ? nil : ca)
        } else if let text = chooser.fingerprint {
            guard let key = KeyFingerprint(parsing: text) else {
                throw ClientError("--fingerprint \(text): expected SHA256: and 43 base64 characters, as `ferryd fingerprint` prints")
            }
            trust = .fingerprint(key)
        } else {
            trust = .knownHosts(path: first(\.knownHosts) ?? KnownHosts.defaultPath(environment: environment),
                                strict: first(\.strict) ?? false)
        }

        address = alias?.settings.address ?? host
        port = first(\.port) ?? Self.defaultPort
        user = first(\.user) ?? loginName
        timeout = first(\.timeout) ?? Self.defaultTimeout
        dir = first(\.dir)
        quiet = first(\.quiet) ?? false
        limitRate = first(\.limitRate)
        self.alias = alias?.name
    }

    /// How the server is named in known_hosts: the real address and port, whatever alias was used.
    public var knownHostsName: String { KnownHosts.name(host: address, port: port) }

    /// The security to connect with; `ask` decides about a server met for the first time, given the
    /// server's name, its key and the known_hosts file.
    public func security(ask: (@Sendable (_ server: String, _ key: KeyFingerprint, _ file: String) -> Bool)?) -> ConnectionSecurity {
        switch trust {
        case .clearText:
            return .clearText
        case .authorities(let file):
            return .tls(.authorities(file: file))
        case .fingerprint(let key):
            return .tls(.fingerprint(key))
        case .knownHosts(let path, let strict):
            var question: (@Sendable (String, KeyFingerprint) -> Bool)?
            if let ask { question = { server, key in ask(server, key, path) } }
            return .tls(.knownHosts(KnownHosts(path: path), strict: strict, ask: question))
        }
    }

    private static func parse(_ text: String, from source: String) throws(ClientError) -> HostTarget {
        do { return try HostTarget(parsing: text) } catch { throw ClientError("\(source) \(error.message)") }
    }

    /// `settings` with the user and port written in `target`; refuses a second, different value.
    private static func merge(_ target: HostTarget?, into settings: HostSettings, from source: String,
                              port portName: String, user userName: String) throws(ClientError) -> HostSettings {
        guard let target else { return settings }
        var merged = settings
        if let port = target.port {
            if let other = settings.port, other != port {
                throw ClientError("\(source) \(target) and \(portName) \(other) name two ports: give one")
            }
            merged.port = port
        }
        if let user = target.user {
            if let other = settings.user, other != user {
                throw ClientError("\(source) \(target) and \(userName) \(other) name two users: give one")
            }
            merged.user = user
        }
        return merged
    }
}
