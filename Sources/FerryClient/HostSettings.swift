/// What one source says about a connection (the command line, a `[host NAME]` section, `[defaults]`
/// or the environment): each value nil where that source is silent. ``ResolvedHost`` ranks them.
public struct HostSettings: Equatable, Sendable {
    /// The host name or IP address to connect to (an alias's `address`).
    public var address: String?
    public var port: Int?
    public var user: String?
    /// The known_hosts file.
    public var knownHosts: String?
    /// The one server key to accept, `SHA256:...`.
    public var fingerprint: String?
    /// Refuse a server not yet in known_hosts.
    public var strict: Bool?
    /// CA certificates to verify the server's chain against: a PEM file, or `system`.
    public var ca: String?
    /// False for clear text (`--no-tls`).
    public var tls: Bool?
    /// Seconds to wait for the server.
    public var timeout: Double?
    /// The download directory.
    public var dir: String?
    /// No progress line or summary.
    public var quiet: Bool?
    /// A transfer rate limit, kept as written (`limit_rate`); read by the code that limits rates.
    public var limitRate: String?

    public init(address: String? = nil, port: Int? = nil, user: String? = nil, knownHosts: String? = nil,
                fingerprint: String? = nil, strict: Bool? = nil, ca: String? = nil, tls: Bool? = nil,
                timeout: Double? = nil, dir: String? = nil, quiet: Bool? = nil, limitRate: String? = nil) {
        self.address = address
        self.port = port
        self.user = user
        self.knownHosts = knownHosts
        self.fingerprint = fingerprint
        self.strict = strict
        self.ca = ca
        self.tls = tls
        self.timeout = timeout
        self.dir = dir
        self.quiet = quiet
        self.limitRate = limitRate
    }

    /// Whether this source says anything about how the server is trusted; the highest source that does
    /// chooses between clear text, a CA, a fingerprint and known_hosts.
    public var saysHowToTrust: Bool {
        tls != nil || ca != nil || fingerprint != nil || knownHosts != nil || strict != nil
    }

    /// Two trust settings of one source that cannot go together.
    public enum TrustConflict: Equatable, Sendable {
        /// Clear text, and a key check of some kind: without TLS there is no key to check.
        case clearTextWithCheck
        /// A CA and a fingerprint: two ways to trust a server.
        case authorityAndFingerprint
    }

    /// What is wrong with this source's trust settings together; nil when they agree.
    public var trustConflict: TrustConflict? {
        if tls == false && (fingerprint != nil || ca != nil || strict == true || knownHosts != nil) { return .clearTextWithCheck }
        if ca != nil && fingerprint != nil { return .authorityAndFingerprint }
        return nil
    }
}
