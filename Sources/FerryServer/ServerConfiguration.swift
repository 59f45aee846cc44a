import FerryWire

/// Everything ferryd can be told, with a default for each. config.ini maps onto it key by key
/// (see README.md for the table).
public struct ServerConfiguration: Sendable {
    /// Address to listen on. Loopback by default: exposing ferryd is a decision, not an accident.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (tests).
    public var port = 8912
    /// The directory served, absolute.
    public var root: String
    /// Bytes per read, write or sendfile of a body; see docs/PERFORMANCE.md on how it was chosen.
    public var chunkSize = 256 * 1024
    /// Simultaneous connections at most; more are refused with `busy`.
    public var maxConnections = 2048
    /// Simultaneous connections from one address at most.
    public var maxConnectionsPerAddress = 1024
    /// Connections that have not logged in yet, at most; when all are taken, the address holding the
    /// most gives up its oldest to a newcomer from an address holding fewer (see ``PendingLogins``).
    public var maxPendingLogins = 256
    /// Connections from one address that have not logged in yet, at most.
    public var maxPendingLoginsPerAddress = 64
    /// Time from connect to a completed login.
    public var loginTimeout: Duration = .seconds(30)
    /// Time a logged-in session may sit between commands.
    public var idleTimeout: Duration = .seconds(600)
    /// Time a transfer may go without any progress.
    public var stallTimeout: Duration = .seconds(60)
    /// Delay before answering a failed login.
    public var failedLoginDelay: Duration = .seconds(1)
    /// On SIGINT/SIGTERM, how long transfers in flight may take to finish.
    public var shutdownGrace: Duration = .seconds(5)
    /// The largest frame accepted from a client.
    public var maxFrameLength = Frame.maximumLength
    /// Entries one `ls` returns at most.
    public var maxListEntries = 100_000
    /// Failed logins from one address within `banWindow` that get it banned; 0 disables banning.
    public var banThreshold = 10
    public var banWindow: Duration = .seconds(60)
    /// How long a banned address is refused.
    public var banDuration: Duration = .seconds(600)
    /// TLS on every connection (protocol 2), or clear text (protocol 1). config.ini turns it on by
    /// default, with a key made on first start beside the file; a bare configuration (tests) has it off.
    public var tls: TLSSetting = .off
    /// Where to append one JSON line per transfer; nil for none.
    public var transferLog: String?
    /// Offer chunk-verified, resumable transfers (feature `chunks`). Off only to stand in for an older
    /// server in tests of the clients' fallback.
    public var offersChunks = true
    /// Where the chunk digests of large files are kept across restarts (see ``ManifestStore``); nil keeps
    /// them in memory only.
    public var cacheDirectory: String?
    /// How long the verified chunks of an interrupted upload are kept for it to resume.
    public var uploadResumeTimeout: Duration = .seconds(86_400)
    /// Where the files are: `[server] root` on this machine, or a bucket (`[storage]`).
    public var storage: StorageBackend = .local
    /// Answer status probes on UDP, on the TCP listener's address and port (docs/PROTOCOL.md section 11).
    public var udpStatus = true
    /// Load balancers whose connections start with a PROXY protocol v2 header naming the client
    /// (docs/PROTOCOL.md section 1.2): a connection from these addresses must send one, a connection
    /// from any other must not. Empty: none, every peer is the client itself.
    public var trustedProxies: [AddressRange] = []

    /// Bytes per second of file data that all sessions together may move, both ways; nil for no
    /// limit. Each user's own `rate_limit` applies as well.
    public var maxRate: UInt64?

    public init(root: String) { self.root = root }
}

/// Whether ferryd speaks TLS, and with which key.
public enum TLSSetting: Sendable, Equatable {
    /// Protocol 1, clear text.
    case off
    /// Protocol 2 with the certificate chain and key in these PEM files. With `createIfMissing`, a
    /// fresh key and self-signed certificate are made when neither file exists yet.
    case on(certificate: String, privateKey: String, createIfMissing: Bool)
}
