#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FerryCrypto
import FerryPosix
import FerryS3
import FerryTLS
import FerryTransport
import FerryWire
import Foundation
import Logging
import Synchronization

/// ferryd's core: a listening socket whose accept loop runs on a Dispatch queue and hands every
/// connection to a thread of its own.
///
/// A thread per connection means a client that is idle, slow or stalled only ever holds up itself:
/// nothing waits for a shared pool. Every wait on a socket is bounded by a timeout from the
/// configuration, so no thread sleeps forever.
///
/// A connection from one of `trusted_proxies` (a load balancer) starts with a PROXY protocol header
/// naming the client, which is read on the connection's thread before anything else; the client then
/// takes the connection's places by address (see ``ProxiedConnection`` and docs/SCALING.md).
///
/// Made from a config.ini, the server reads it again on ``reloadConfiguration()`` (SIGHUP) and when it
/// finds the file changed as a client starts to log in; see ``ConfigReloader``. The users, their roots
/// and most settings then change for the connections to come, without dropping any.
public final class Server: Sendable {
    /// The configuration in force: the one the server started with, as changed by reloads since.
    public var configuration: ServerConfiguration { settings.configuration }
    let logger: Logger
    let digests = DigestCache()
    let manifests: ManifestStore
    let quotas = QuotaLedger()
    let s3Uploads = S3UploadsInProgress()
    let bandwidth = BandwidthLimits()
    let loginGuard: LoginGuard
    /// The TLS context every connection is served through (protocol 2), nil for clear text (protocol 1).
    let tls: TLSContext?
    /// The fingerprint of the server's key, the one clients pin; nil in clear text.
    public let fingerprint: KeyFingerprint?
    /// Key for the fake SCRAM credentials of unknown users, fixed for the process's life: reloads
    /// change no unknown name's salt.
    let unknownUserSecret: [UInt8]
    /// The config.ini the server was made from and reloads, nil when it was given a configuration.
    let reloader: ConfigReloader?
    /// The users, roots and settings in force; replaced whole by a reload.
    private let live: Mutex<LiveSettings>
    private let listener: ListeningSocket
    /// The counts status probes report.
    public let status: ServerStatus
    /// Answers status probes beside the listener; nil with `udp_status = false` or when its port was taken.
    private let statusResponder: StatusResponder?
    private let acceptQueue = DispatchQueue(label: "ferryd.accept")
    /// MD5s computed after a transfer was answered, one at a time, at low priority. Each waiting job
    /// holds a descriptor: past 16, later transfers of a file will ask again.
    private let background = BackgroundWorker(name: "ferryd.md5", capacity: 16)
    private let sessions = DispatchGroup()

    /// Dispatch sources may be used from any thread; this box lets one sit in Sendable state.
    private final class AcceptSource: @unchecked Sendable {
        let source: any DispatchSourceRead
        init(_ source: any DispatchSourceRead) { self.source = source }
    }

    /// The same for the timer that expires upload partials.
    private final class ExpiryTimer: @unchecked Sendable {
        let timer: any DispatchSourceTimer
        init(_ timer: any DispatchSourceTimer) { self.timer = timer }
    }

    private struct State {
        var source: AcceptSource?
        var expiry: ExpiryTimer?
        var connections: [ObjectIdentifier: ConnectionHandle] = [:]
        var perAddress: [String: Int] = [:]
        var pending: PendingLogins<ConnectionHandle>
        var stopping = false
        /// Every root served since the start, by path (the newest opening of each): where temporary
        /// files are swept and upload partials expire, also after a reload has dropped a root.
        var roots: [String: ShareRoot] = [:]
    }
    private let state: Mutex<State>

    /// Stack size of connection threads: deep enough for JSON decoding, small enough for thousands of sessions.
    static let threadStackSize = 512 * 1024

    /// Opens the roots and binds the listening socket; call ``start()`` to accept. The configuration
    /// stays as given: nothing is reloaded.
    public convenience init(configuration: ServerConfiguration, users: UserStore, logger: Logger) throws {
        try self.init(configuration: configuration, users: users, logger: logger, file: nil)
    }

    /// The same for the configuration in `file`, which the server reloads while it runs. A root or
    /// transfer log that cannot be opened is a ``ConfigFile/Invalid`` at the line naming it.
    public convenience init(configFile file: ConfigFile, logger: Logger) throws {
        try self.init(configuration: file.configuration, users: file.users, logger: logger, file: file)
    }

    private init(configuration: ServerConfiguration, users: UserStore, logger: Logger, file: ConfigFile?) throws {
        self.logger = logger
        let settings: LiveSettings
        do { settings = try LiveSettings(configuration: configuration, users: users) } catch {
            if let file { throw error.invalid(in: file) }
            throw ServerError(error.description)
        }
        live = Mutex(settings)
        reloader = file.map { ConfigReloader(file: $0) }
        state = Mutex(State(
            pending: PendingLogins(limit: configuration.maxPendingLogins, limitPerAddress: configuration.maxPendingLoginsPerAddress),
            roots: settings.roots
        ))
        unknownUserSecret = Self.unknownUserSecret(users)
        loginGuard = LoginGuard(
            threshold: configuration.banThreshold, window: configuration.banWindow, duration: configuration.banDuration
        )
        switch configuration.tls {
        case .off:
            tls = nil
        case .on(let certificate, let privateKey, let createIfMissing):
            do {
                if createIfMissing, let made = try ServerKeyFiles.createIfMissing(certificate: certificate, privateKey: privateKey) {
                    logger.notice("made a new server key, \(made), in \(privateKey) and \(certificate)")
                }
                tls = try TLSContext.server(certificate: certificate, privateKey: privateKey)
            } catch {
                throw ServerError("\(error)")
            }
            if let warning = ServerKeyFiles.permissionWarning(privateKey: privateKey) { logger.warning("\(warning)") }
        }
        fingerprint = tls?.fingerprint
        status = ServerStatus(protocols: [Hello.version(overTLS: tls != nil)], maxConnections: configuration.maxConnections)
        var cache: Descriptor?
        if let path = configuration.cacheDirectory {
            if (try? File.openDirectory(path: path)) == nil { try? File.makeDirectory(path: path, mode: 0o700) }
            do { cache = try File.openDirectory(path: path) } catch {
                throw ServerError("cannot open cache_dir \(path): \(error.reason)")
            }
        }
        manifests = ManifestStore(cacheDirectory: cache)
        if case .s3(let bucket) = configuration.storage {
            // A missing bucket or wrong credentials are said now, in one line, not at the first get.
            do { try S3Bucket(settings: bucket, stallSeconds: 10).check() } catch {
                throw ServerError("\(bucket.described): \(error.startupReason)")
            }
        }
        do {
            listener = try ListeningSocket(host: configuration.host, port: configuration.port)
        } catch {
            throw ServerError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        statusResponder = configuration.udpStatus ? Self.statusResponder(beside: listener.localAddress, status: status, logger: logger) : nil
    }

    /// The status probe responder on the listener's address and port; nil, with a warning, when that UDP
    /// port is taken: files are served all the same.
    private static func statusResponder(beside address: SocketAddress, status: ServerStatus, logger: Logger) -> StatusResponder? {
        do {
            return try StatusResponder(address: address, status: status, logger: logger)
        } catch {
            logger.warning("not answering status probes: cannot bind udp \(address): \(error.reason)")
            return nil
        }
    }

    /// A secret derived from the users' own secret keys, so that an unknown name gets the same fake salt
    /// across restarts, as a real user's salt stays the same.
    static func unknownUserSecret(_ users: UserStore) -> [UInt8] {
        let records = users.names.compactMap { users[$0] }
        guard !records.isEmpty else { return SecureRandom.bytes(32) }
        var material: [UInt8] = Array("ferry unknown-user secret".utf8)
        for record in records { material += record.credentials.serverKey + record.credentials.storedKey }
        return Digest.hash(.sha256, material)
    }

    /// The users, roots and settings in force now.
    var settings: LiveSettings { live.withLock { $0 } }

    /// The transfer log in force now (a reload may have opened another).
    var transferLog: TransferLog? { settings.transferLog }

    /// Makes `settings` the ones in force for the connections to come: what a reload does once the
    /// file has been read and everything it names opened. Connections already open keep what they took.
    func install(_ settings: LiveSettings) {
        let configuration = settings.configuration
        loginGuard.update(threshold: configuration.banThreshold, window: configuration.banWindow, duration: configuration.banDuration)
        state.withLock { state in
            state.pending.limit = configuration.maxPendingLogins
            state.pending.limitPerAddress = configuration.maxPendingLoginsPerAddress
            state.roots.merge(settings.roots) { _, new in new }
        }
        live.withLock { $0 = settings }
    }

    /// Reads config.ini again now (SIGHUP): see ``ConfigReloader/reload(into:trigger:)``. Does nothing
    /// for a server not made from a file.
    public func reloadConfiguration() {
        reloader?.reload(into: self, trigger: "SIGHUP")
    }

    /// Reloads config.ini if it changed since it was last read: asked before every login, so that a
    /// user added or changed by `ferryd adduser` can log in at once.
    func reloadIfChanged() {
        reloader?.reloadIfChanged(into: self)
    }

    /// The address actually bound (its port is the real one when 0 was configured).
    public var localAddress: SocketAddress { listener.localAddress }

    /// The UDP address status probes are answered on; nil when they are not.
    public var statusAddress: SocketAddress? { statusResponder?.address }

    /// Removes temporary files a crash left behind, then starts accepting connections.
    public func start() {
        for root in settings.roots.values {
            let removed = TemporaryFile.sweep(root: root.directory, keepPartials: configuration.uploadResumeTimeout)
            if removed > 0 { logger.info("removed \(removed) temporary file(s) left by an earlier run") }
        }
        if case .s3(let bucket) = configuration.storage {
            S3UploadSweeper.sweep(bucket, olderThan: configuration.uploadResumeTimeout, logger: logger)
        }
        startExpiringPartials()
        let source = DispatchSource.makeReadSource(fileDescriptor: listener.descriptor.rawValue, queue: acceptQueue)
        source.setEventHandler { [self] in acceptPending() }
        source.setCancelHandler { [listener] in listener.close() }
        state.withLock { $0.source = AcceptSource(source) }
        source.resume()
        let security = fingerprint.map { "TLS 1.3, server key \($0)" } ?? "clear text (protocol 1, no TLS)"
        let served = if case .s3(let bucket) = configuration.storage { bucket.described + (bucket.prefix.isEmpty ? "" : ", prefix \(bucket.prefix)") } else { configuration.root }
        logger.info("listening on \(localAddress), serving \(served); \(security)")
        if let statusResponder {
            statusResponder.start()
            logger.info("answering status probes on udp \(statusResponder.address)")
        }
    }

    /// Forgets the digests kept in memory for a file in state `status`: it is gone, or a new file was
    /// just stored there and might share its inode, size and modification time with a removed one.
    func forgetDigests(of status: FileStatus) {
        digests.forget(status)
        manifests.forget(status)
    }

    /// Adds the MD5 to the manifest of `file` on a background queue, one file at a time, if the file is
    /// still in state `status` by then.
    func computeMD5Later(_ file: Descriptor, status: FileStatus) {
        background.submit { [manifests] in
            guard var manifest = manifests.cached(file, status: status), manifest.md5 == nil else { return }
            guard let md5 = try? FileHasher.md5(of: file, size: manifest.size), (try? FileStatus.of(file)) == status else { return }
            manifest.md5 = md5
            manifests.store(manifest, for: file, status: status)
        }
    }

    /// Removes the partials of uploads not resumed within `upload_resume_timeout`, checking every half
    /// of it as it was at the start (at most every 10 minutes), and gives their room back to the quota.
    /// A reload's new timeout applies from the next check.
    private func startExpiringPartials() {
        let interval = max(.seconds(1), min(configuration.uploadResumeTimeout / 2, .seconds(600)))
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "ferryd.expiry", qos: .utility))
        timer.schedule(deadline: .now() + .milliseconds(Int(interval.milliseconds)), repeating: .milliseconds(Int(interval.milliseconds)))
        timer.setEventHandler { @Sendable [self] in
            let timeout = configuration.uploadResumeTimeout
            for root in state.withLock({ Array($0.roots.values) }) {
                let removed = TemporaryFile.sweep(root: root.directory, plain: false, keepPartials: timeout) { size in
                    quotas.recordUpload(in: root, stored: 0, replaced: size)
                }
                if removed > 0 { logger.info("removed \(removed) file(s) of uploads not resumed within \(timeout.formattedSeconds) s") }
            }
            if case .s3(let bucket) = configuration.storage { S3UploadSweeper.sweep(bucket, olderThan: timeout, logger: logger) }
        }
        state.withLock { $0.expiry = ExpiryTimer(timer) }
        timer.resume()
    }

    /// Number of open connections.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Number of open connections that have not logged in yet.
    public var pendingLoginCount: Int { state.withLock { $0.pending.count } }

    /// A connection logged in: it no longer holds a pre-login slot.
    func loggedIn(_ handle: ConnectionHandle) {
        state.withLock { _ = $0.pending.remove(handle, from: handle.address) }
    }

    /// Closes every connection from `address` that has not logged in, but `sparing` (the one whose
    /// failure started the ban, which answers for itself): a banned address keeps no guesses in hand.
    func closePendingLogins(from address: String, sparing: ConnectionHandle) {
        let doomed = state.withLock { $0.pending.connections(from: address) }.filter { $0 !== sparing }
        doomed.forEach { $0.terminate() }
        if !doomed.isEmpty { logger.notice("closed \(doomed.count) connection(s) from banned \(address) that had not logged in") }
    }

    /// Stops accepting, lets commands in flight finish within the configured grace, ends the rest,
    /// waits for every connection thread, and removes temporary files. Blocks until done.
    public func shutdown() {
        status.stop()
        let handles = state.withLock { state -> [ConnectionHandle] in
            state.stopping = true
            state.source?.source.cancel()
            state.source = nil
            return Array(state.connections.values)
        }
        logger.info("shutting down: \(handles.count) connection(s) open")
        handles.forEach { $0.drain() }
        if sessions.wait(timeout: .now() + .milliseconds(Int(configuration.shutdownGrace.milliseconds))) == .timedOut {
            let remaining = state.withLock { Array($0.connections.values) }
            logger.warning("ending \(remaining.count) connection(s) still busy after the grace period")
            remaining.forEach { $0.terminate() }
            _ = sessions.wait(timeout: .now() + .seconds(5))
        }
        state.withLock { $0.expiry?.timer.cancel() }
        statusResponder?.stop()
        for root in state.withLock({ Array($0.roots.values) }) {
            TemporaryFile.sweep(root: root.directory, keepPartials: configuration.uploadResumeTimeout)
        }
        logger.info("stopped")
    }

    // MARK: accepting

    /// Accepts until no connection is pending. Runs on the accept queue, which does nothing else.
    ///
    /// Out of descriptors or memory (EMFILE and the like), it waits 100 ms on this queue and tries
    /// again, rather than returning to a socket that is still ready (a 100% CPU spin) or suspending the
    /// source (which libdispatch on Linux did not re-arm: the server never accepted again). Connections
    /// meanwhile wait in the listen backlog and are served as soon as descriptors are free.
    private func acceptPending() {
        var pausedSince: ContinuousClock.Instant?
        while !state.withLock({ $0.stopping }) {
            let socket: Socket
            do {
                guard let accepted = try listener.accept() else { return }
                socket = accepted
            } catch {
                switch error.code {
                case ECONNABORTED, EPROTO, EPERM:
                    continue
                default:
                    if pausedSince == nil {
                        pausedSince = .now
                        logger.warning("cannot accept (\(error.reason)); retrying every 100 ms")
                    }
                    Thread.sleep(forTimeInterval: 0.1)
                    continue
                }
            }
            if let since = pausedSince {
                logger.notice("accepting again after \((ContinuousClock.now - since).formattedSeconds) s")
                pausedSince = nil
            }
            admit(socket)
        }
    }

    /// Answers a connection that is not admitted with one error frame and closes it.
    private func refuse(_ handle: ConnectionHandle, _ reply: ErrorReply) {
        logger.warning("refused \(handle.peer)\(handle.proxy.map { " (via \($0))" } ?? ""): \(reply.message)")
        // A fresh socket's send buffer is empty, so this small frame cannot block.
        try? MessageChannel(stream: handle.socket).send(.error(reply), timeout: .zero)
        handle.socket.close()
    }

    /// Admits a connection just accepted, or refuses it. A connection from one of `trusted_proxies`
    /// is admitted provisionally (see ``admitFromProxy(_:peer:)``).
    private func admit(_ socket: Socket) {
        let ip = socket.peer.flatMap { IPAddress(bytes: $0.addressBytes) }
        if let ip, configuration.trustedProxies.contains(where: { $0.contains(ip) }) {
            admitFromProxy(socket, peer: ip)
            return
        }
        let address = ip?.description ?? "unknown"
        let handle = ConnectionHandle(socket: socket, address: address, peer: socket.peer?.description ?? address)
        if let refusal = admission(of: handle) {
            refuse(handle, refusal)
            return
        }
        serve(handle) { [self] started in
            Session.serve(server: self, handle: handle, started: started)
            return handle
        }
    }

    /// Takes the places `handle` needs, by its client's address, or says why it gets none: the address
    /// is banned, the server is stopping, or a connection limit is reached. `provisional`, when given,
    /// is the handle the same connection had while its proxy's header was read: it already holds a
    /// place among the connections, which `handle` takes over.
    private func admission(of handle: ConnectionHandle, replacing provisional: ConnectionHandle? = nil) -> ErrorReply? {
        let address = handle.address
        if let remaining = loginGuard.banRemaining(for: address) {
            return LoginGuard.refusal(of: address, remaining: remaining)
        }
        var evicted: ConnectionHandle?
        let configuration = configuration
        let refusal: String? = state.withLock { state in
            if state.stopping { return "server is shutting down" }
            if provisional == nil && state.connections.count >= configuration.maxConnections {
                return "server is at its limit of \(configuration.maxConnections) connections"
            }
            if state.perAddress[address, default: 0] >= configuration.maxConnectionsPerAddress {
                return "too many connections from \(address)"
            }
            switch state.pending.admit(handle, from: address) {
            case .refused(let why): return why
            case .admittedEvicting(let victim): evicted = victim
            case .admitted: break
            }
            if let provisional { state.connections[ObjectIdentifier(provisional)] = nil }
            state.connections[ObjectIdentifier(handle)] = handle
            state.perAddress[address, default: 0] += 1
            return nil
        }
        if let refusal { return ErrorReply(.busy, refusal) }
        if let evicted {
            logger.notice("closing the oldest connection from \(evicted.address) waiting to log in, to admit \(address)")
            evicted.terminate()
        }
        return nil
    }

    /// A connection from a trusted proxy: it counts against `max_connections` at once, and against the
    /// limits per address (bans, `max_connections_per_address`, the pending logins) only once its
    /// PROXY header has named the client, on the connection's own thread (``ProxiedConnection``).
    private func admitFromProxy(_ socket: Socket, peer: IPAddress) {
        let provisional = ConnectionHandle(socket: socket, address: peer.description, peer: socket.peer?.description ?? peer.description)
        let configuration = configuration
        let refusal: String? = state.withLock { state in
            if state.stopping { return "server is shutting down" }
            if state.connections.count >= configuration.maxConnections {
                return "server is at its limit of \(configuration.maxConnections) connections"
            }
            state.connections[ObjectIdentifier(provisional)] = provisional
            return nil
        }
        if let refusal {
            // Nothing has been read yet: no byte may go to the proxy's client before the header is
            // off the stream, so the connection just closes.
            logger.warning("refused \(provisional.peer), a trusted proxy: \(refusal)")
            socket.close()
            return
        }
        serve(provisional, counted: false) { [self] started in
            let deadline = started + configuration.loginTimeout
            guard let (handle, local) = ProxiedConnection(provisional: provisional, deadline: deadline, logger: logger).client() else {
                return nil
            }
            if let refusal = admission(of: handle, replacing: provisional) {
                // The client may be sending its first flight already, behind the header.
                handle.socket.discardFirstFlight()
                refuse(handle, refusal)
                return nil
            }
            guard ProxiedConnection.expectsMore(over: handle, local: local, tls: tls != nil, deadline: deadline, logger: logger) else {
                return handle
            }
            Session.serve(server: self, handle: handle, started: started)
            return handle
        }
    }

    /// Runs `body` on a thread of its own for an admitted connection, then closes it and gives up its
    /// places. `body` gets the time its thread started, from which the login timeout runs, and returns
    /// the handle the connection ended under, which holds the places by address (nil: only `handle`'s
    /// place among the connections); `counted` says whether `handle` itself holds such places from the
    /// start.
    private func serve(_ handle: ConnectionHandle, counted: Bool = true,
                       _ body: @escaping @Sendable (ContinuousClock.Instant) -> ConnectionHandle?) {
        sessions.enter()
        status.connectionOpened()
        let thread = Thread { [self] in
            let ended = body(.now)
            handle.socket.close()
            state.withLock { state in
                state.connections[ObjectIdentifier(handle)] = nil
                guard let counting = ended ?? (counted ? handle : nil) else { return }
                state.connections[ObjectIdentifier(counting)] = nil
                let address = counting.address
                state.pending.remove(counting, from: address)
                state.perAddress[address, default: 1] -= 1
                if state.perAddress[address] == 0 { state.perAddress[address] = nil }
            }
            status.connectionClosed()
            sessions.leave()
        }
        thread.stackSize = Self.threadStackSize
        thread.start()
    }
}

/// A reason ferryd cannot start, for one line on stderr.
public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
