import FerryCrypto
import FerryPosix
import FerryTLS
import FerryTransport
import FerryWire

/// A connection to ferryd: connect, log in with SCRAM-SHA-256 (checking the server's signature too),
/// then run commands one after another on the same connection.
public final class ClientSession {
    let channel: MessageChannel
    /// The server's greeting.
    public let hello: Hello
    /// Who we are logged in as, once logged in.
    public private(set) var user: String?
    /// Whether the server said this account may only read.
    public private(set) var readOnly = false
    /// Longest wait for the server to answer or make progress.
    public var timeout: Duration
    /// Bytes per read of a download body and per hash step of an upload: the server's `chunk_size`.
    public var chunkSize = 256 * 1024
    /// The TLS stream under the channel (protocol 2), nil in clear text.
    let tls: TLSStream?
    /// Where the content hashes of local files are remembered (nil: nowhere), so that trees are
    /// compared without hashing unchanged files again.
    public var localDigests: LocalDigests?
    /// Hears what a user should know besides progress, one line each ("resuming notes.txt: …").
    public var notices: (String) -> Void = { _ in }
    /// The bucket of the `--limit-rate` in force, kept from one transfer to the next at the same rate.
    var rateBucket: TokenBucket?
    /// The server's key when it is new to known_hosts: recorded once the login has succeeded.
    private var keyToRecord: (file: KnownHosts, server: String, key: KeyFingerprint)?
    /// The key the server presented, nil in clear text.
    public var serverKey: KeyFingerprint? { tls?.peerFingerprint }

    init(channel: MessageChannel, hello: Hello, timeout: Duration, tls: TLSStream?) {
        self.channel = channel
        self.hello = hello
        self.timeout = timeout
        self.tls = tls
    }

    /// Connects, secures the connection as `security` says (TLS and a trusted key, or clear text), and
    /// reads the server's hello. Refuses a server speaking another protocol version, or a TLS server
    /// that does not offer channel binding.
    public static func connect(host: String, port: Int, timeout: Duration = .seconds(60),
                               security: ConnectionSecurity = .clearText) throws(ClientError) -> ClientSession {
        let socket: Socket
        let server = KnownHosts.name(host: host, port: port)
        let connectTimeout = min(timeout, .seconds(10))
        do {
            socket = try Socket.connect(host: host, port: port, timeout: connectTimeout)
        } catch is TimeoutError {
            throw ClientError.connectTimedOut(server, within: connectTimeout)
        } catch {
            throw ClientError("cannot connect to \(host):\(port): \(Self.describe(error))")
        }
        var tls: TLSStream?
        var keyToRecord: (KnownHosts, String, KeyFingerprint)?
        if case .tls(let trust) = security {
            let stream = try secure(socket, host: host, server: server, trust: trust, timeout: timeout)
            if let key = try trust.check(stream.peerFingerprint, server: server), case .knownHosts(let file, _, _) = trust {
                keyToRecord = (file, server, key)
            }
            tls = stream
        }
        let channel = MessageChannel(stream: tls ?? socket)
        let greeting: Message
        do { greeting = try channel.receive(timeout: timeout) } catch is TimeoutError {
            throw ClientError.connectTimedOut(server, within: timeout, "the server took the connection but never greeted")
        } catch {
            throw ClientError(translating: error)
        }
        switch greeting {
        case .hello(let hello):
            let expected = Hello.version(overTLS: tls != nil)
            guard hello.protocolVersion == expected else {
                throw ClientError("\(server) speaks Ferry protocol \(hello.protocolVersion); this ferry speaks \(expected) here"
                                  + (tls == nil ? "" : " (over TLS)"))
            }
            if tls != nil && !hello.auth.contains(Hello.scramSHA256Plus) {
                throw ClientError("\(server) speaks TLS but does not offer \(Hello.scramSHA256Plus) (offered: \(hello.auth.joined(separator: ", "))): a login could not be bound to this channel, so something may have altered the offer; not logging in")
            }
            let session = ClientSession(channel: channel, hello: hello, timeout: timeout, tls: tls)
            session.keyToRecord = keyToRecord
            // Read and hash in the server's chunk size, within sane bounds: one setting tunes both ends.
            session.chunkSize = min(max(hello.chunkSize, 16 * 1024), 16 * 1024 * 1024)
            return session
        case .error(let reply):
            throw ClientError(reply)
        default:
            throw ClientError("server did not greet with hello; is this a ferryd?")
        }
    }

    /// The TLS handshake, within `timeout` (at most 10 s for a server that says nothing useful).
    private static func secure(_ socket: Socket, host: String, server: String, trust: ServerTrust, timeout: Duration) throws(ClientError) -> TLSStream {
        do {
            let stream = try TLSStream(context: try TLSContext.client(trust.verification), socket: socket, serverName: host)
            try stream.handshake(deadline: .now + min(timeout, .seconds(10))) { first in
                try Self.refuseClearTextFrame(first, server: server)
            }
            return stream
        } catch let error as ClientError {
            throw error
        } catch is TimeoutError {
            throw ClientError.connectTimedOut(server, within: min(timeout, .seconds(10)),
                                              "the server took the connection but never finished a TLS handshake; is it a ferryd speaking TLS?")
        } catch let error as TLSError where error.reason == "wrong version number" {
            // The peer spoke first, and not in TLS records: most likely a clear-text ferryd whose hello
            // OpenSSL read before the check above could see it.
            throw ClientError("\(server) does not speak TLS (it sent something else first; a clear-text ferryd, protocol 1?); use --no-tls only where the network between you is trusted")
        } catch {
            throw ClientError("TLS with \(server) failed: \(Self.describe(error))")
        }
    }

    /// A ferryd speaks first only in clear text: its protocol-1 hello, or one `error` frame when it refuses
    /// the connection before any TLS (busy, banned). Either is named for what it is.
    private static func refuseClearTextFrame(_ first: [UInt8], server: String) throws(ClientError) {
        guard first.count >= 5, first[0] == 0, first[4] == UInt8(ascii: "{") else { return }
        var decoder = FrameDecoder()
        decoder.append(first)
        if let payload = (try? decoder.nextFrame()) ?? nil, case .error(let reply)? = try? MessageCoder().decode(payload) {
            throw ClientError(reply)
        }
        throw ClientError("\(server) speaks clear text (Ferry protocol 1), not TLS; use --no-tls only where the network between you is trusted")
    }

    /// Logs in. The password never leaves this process: only a SCRAM proof does, and the server must
    /// prove in turn that it holds the user's keys. Over TLS the proof is bound to this TLS channel
    /// (SCRAM-SHA-256-PLUS, tls-exporter), so it is worthless on any other; a server key met for the
    /// first time is recorded in known_hosts only after this succeeded.
    public func login(user: String, password: String) throws(ClientError) {
        let mechanism = Hello.mechanism(overTLS: tls != nil)
        guard hello.auth.contains(mechanism) else {
            throw ClientError("server offers no authentication this ferry supports (\(hello.auth.joined(separator: ", ")))")
        }
        var binding: [UInt8]?
        if let tls {
            do { binding = try tls.channelBinding() } catch { throw ClientError("\(error)") }
        }
        var scram = ScramClient(username: user, password: password, channelBindingData: binding)
        let challenge = try request(.authStart(AuthStart(mechanism: mechanism, message: scram.clientFirstMessage)))
        guard case .authChallenge(let serverFirst) = challenge else { throw unexpected(challenge) }
        let clientFinal: String
        do { clientFinal = try scram.clientFinalMessage(serverFirst: serverFirst.message) } catch {
            throw ClientError("login failed: \(error)")
        }
        let outcome: Message
        do { outcome = try request(.authFinish(AuthMessage(message: clientFinal))) } catch where error.code == .channelBindingMismatch {
            throw ClientError("login refused: the channel binding did not match, so this TLS connection does not reach the server directly; something in between (presenting the key \(serverKey?.text ?? "?")) may be intercepting it. Nothing was recorded in known_hosts.", code: .channelBindingMismatch)
        }
        guard case .authOK(let ok) = outcome else { throw unexpected(outcome) }
        do { try scram.verify(serverFinal: ok.message) } catch {
            throw ClientError("the server could not prove it knows your password (\(error)); not trusting it")
        }
        self.user = ok.user
        readOnly = ok.readOnly
        if let (file, server, key) = keyToRecord {
            keyToRecord = nil
            try file.record(server, key)
        }
    }

    /// The entries of a remote directory, in the server's order, and whether the server cut the list short.
    public func list(_ path: String) throws(ClientError) -> (entries: [Entry], truncated: Bool) {
        try send(.list(PathRequest(path: path)))
        var entries: [Entry] = []
        while true {
            let message = try receive()
            guard case .listing(let part) = message else { throw unexpected(message) }
            entries.append(contentsOf: part.entries)
            if !part.more { return (entries, part.truncated ?? false) }
        }
    }

    /// One remote entry, following symlinks that stay inside the root.
    public func stat(_ path: String) throws(ClientError) -> Entry {
        let message = try request(.stat(PathRequest(path: path)))
        guard case .entry(let reply) = message else { throw unexpected(message) }
        return reply.entry
    }

    /// Says goodbye and closes the connection. Safe to call more than once.
    public func close() {
        localDigests?.save()
        if channel.socket.descriptor.isOpen {
            try? channel.send(.bye, timeout: .milliseconds(500))
            channel.close()
        }
    }

    deinit { close() }

    // MARK: plumbing

    func send(_ message: Message) throws(ClientError) {
        do { try channel.send(message, timeout: timeout) } catch { throw ClientError(translating: error) }
    }

    /// The next message; an `error` reply is thrown as a ``ClientError``.
    func receive() throws(ClientError) -> Message {
        let message: Message
        do { message = try channel.receive(timeout: timeout) } catch { throw ClientError(translating: error) }
        if case .error(let reply) = message { throw ClientError(reply) }
        return message
    }

    func request(_ message: Message) throws(ClientError) -> Message {
        try send(message)
        return try receive()
    }

    func unexpected(_ message: Message) -> ClientError {
        ClientError("server sent an unexpected \"\(message.type)\" message")
    }

    static func describe(_ error: any Error) -> String {
        if let posix = error as? PosixError { return posix.reason }
        if let tls = error as? TLSError { return tls.description }
        return "\(error)"
    }
}

extension ClientError {
    /// Words a transport failure for the user. A server that goes away (it stopped, or was killed) is
    /// said to have closed the connection, whether it closed it cleanly, reset it, or ended TLS without
    /// a word, in the middle of a transfer or between commands; "protocol error" is only for what a
    /// ferryd would never send.
    init(translating error: any Error) {
        switch error {
        case let error as ClientError: self = error
        case is ChannelClosed: self.init("the server closed the connection")
        case let error as TimeoutError: self.init("the server did not respond in time (\(error))")
        case WireError.closedInsideFrame, WireError.truncated:
            self.init("the server closed the connection in the middle of a transfer")
        case let error as WireError: self.init("protocol error: \(error)")
        case let error as PosixError where error.isConnectionLost:
            self.init("the server closed the connection (\(error.reason))")
        case let error as PosixError: self.init("connection failed: \(error.reason)")
        case let error as TLSError where error.reason.contains("unexpected eof"):
            // OpenSSL's word for a peer that closed without TLS's close_notify: a killed server.
            self.init("the server closed the connection")
        default: self.init("\(error)")
        }
    }
}
