import FerryCrypto
import FerryPosix
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

    init(channel: MessageChannel, hello: Hello, timeout: Duration) {
        self.channel = channel
        self.hello = hello
        self.timeout = timeout
    }

    /// Connects and reads the server's hello. Refuses a server speaking another protocol version.
    public static func connect(host: String, port: Int, timeout: Duration = .seconds(60)) throws(ClientError) -> ClientSession {
        let socket: Socket
        do {
            socket = try Socket.connect(host: host, port: port, timeout: min(timeout, .seconds(10)))
        } catch {
            throw ClientError("cannot connect to \(host):\(port): \(Self.describe(error))")
        }
        let channel = MessageChannel(socket: socket)
        let greeting: Message
        do { greeting = try channel.receive(timeout: timeout) } catch { throw ClientError(translating: error) }
        switch greeting {
        case .hello(let hello):
            guard hello.protocolVersion == Hello.currentVersion else {
                throw ClientError("server speaks protocol version \(hello.protocolVersion); this ferry speaks \(Hello.currentVersion)")
            }
            let session = ClientSession(channel: channel, hello: hello, timeout: timeout)
            // Read and hash in the server's chunk size, within sane bounds: one setting tunes both ends.
            session.chunkSize = min(max(hello.chunkSize, 16 * 1024), 16 * 1024 * 1024)
            return session
        case .error(let reply):
            throw ClientError(reply)
        default:
            throw ClientError("server did not greet with hello; is this a ferryd?")
        }
    }

    /// Logs in. The password never leaves this process: only a SCRAM proof does, and the server must
    /// prove in turn that it holds the user's keys.
    public func login(user: String, password: String) throws(ClientError) {
        guard hello.auth.contains(Hello.scramSHA256) else {
            throw ClientError("server offers no authentication this ferry supports (\(hello.auth.joined(separator: ", ")))")
        }
        var scram = ScramClient(username: user, password: password)
        let challenge = try request(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: scram.clientFirstMessage)))
        guard case .authChallenge(let serverFirst) = challenge else { throw unexpected(challenge) }
        let clientFinal: String
        do { clientFinal = try scram.clientFinalMessage(serverFirst: serverFirst.message) } catch {
            throw ClientError("login failed: \(error)")
        }
        let outcome = try request(.authFinish(AuthMessage(message: clientFinal)))
        guard case .authOK(let ok) = outcome else { throw unexpected(outcome) }
        do { try scram.verify(serverFinal: ok.message) } catch {
            throw ClientError("the server could not prove it knows your password (\(error)); not trusting it")
        }
        self.user = ok.user
        readOnly = ok.readOnly
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
        if channel.socket.descriptor.isOpen {
            try? channel.send(.bye, timeout: .milliseconds(500))
            channel.socket.close()
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
        return "\(error)"
    }
}

extension ClientError {
    /// Words a transport failure for the user.
    init(translating error: any Error) {
        switch error {
        case let error as ClientError: self = error
        case is ChannelClosed: self.init("the server closed the connection")
        case let error as TimeoutError: self.init("the server did not respond in time (\(error))")
        case let error as WireError: self.init("protocol error: \(error)")
        case let error as PosixError: self.init("connection failed: \(error.reason)")
        default: self.init("\(error)")
        }
    }
}
