import FerryCrypto
import FerryPosix
import FerryS3
import FerryTLS
import FerryTransport
import FerryWire
import Foundation
import Logging

/// One client's conversation, run on the connection's own thread: the TLS handshake (protocol 2), hello,
/// login, then a loop that dispatches each command to its handler until the client says bye, goes
/// quiet, or breaks the protocol.
///
/// A handler that throws ``ErrorReply`` has refused one request: the reply is sent and the session goes
/// on. Anything else thrown (a broken connection, a framing violation, a timeout) ends the session.
final class Session {
    let server: Server
    let handle: ConnectionHandle
    let channel: MessageChannel
    /// The TLS stream under the channel (protocol 2), nil in clear text (protocol 1).
    let tls: TLSStream?
    var logger: Logger
    var user: UserRecord?
    /// Whether the current `upload` got as far as its `partial` reply.
    var uploadAnswered = false
    /// The user's files on object storage, with this session's own connection to it; nil for a local root.
    var objectStore: S3Store?
    /// When the connection was accepted.
    let started: ContinuousClock.Instant
    /// The end of the login timeout, which runs from the accept: TLS handshake, hello and login.
    let loginDeadline: ContinuousClock.Instant
    /// The configuration in force when the connection was accepted, kept to its end: a reload changes
    /// the connections to come, never the chunk size or timeouts of one under way.
    let configuration: ServerConfiguration

    private init(server: Server, handle: ConnectionHandle, tls: TLSStream?, logger: Logger, started: ContinuousClock.Instant,
                 configuration: ServerConfiguration) {
        self.server = server
        self.handle = handle
        self.tls = tls
        self.configuration = configuration
        channel = MessageChannel(stream: tls ?? handle.socket, maximumFrameLength: configuration.maxFrameLength)
        self.logger = logger
        self.started = started
        loginDeadline = started + configuration.loginTimeout
    }

    /// Serves one accepted connection to its end; its login timeout runs from `started`, when its
    /// thread started (before a proxy's header was read, if there was one).
    static func serve(server: Server, handle: ConnectionHandle, started: ContinuousClock.Instant) {
        let configuration = server.configuration
        var logger = server.logger
        logger[metadataKey: "peer"] = "\(handle.peer)"
        if let proxy = handle.proxy { logger[metadataKey: "proxy"] = "\(proxy)" }
        logger.info("connected")
        var tls: TLSStream?
        if let context = server.tls {
            guard let secured = secure(handle, context: context, deadline: started + configuration.loginTimeout, logger: logger) else {
                return
            }
            tls = secured
        }
        Session(server: server, handle: handle, tls: tls, logger: logger, started: started, configuration: configuration).run()
    }

    /// The mechanism this connection offers: -PLUS over TLS, plain SCRAM-SHA-256 in clear text.
    var mechanism: String { Hello.mechanism(overTLS: tls != nil) }

    private func run() {
        do {
            try channel.send(.hello(Hello(
                protocolVersion: Hello.version(overTLS: tls != nil),
                server: "ferryd/\(FerryVersion.current)", auth: [mechanism], chunkSize: configuration.chunkSize,
                features: configuration.offersChunks ? [Hello.chunksFeature, Hello.mkdirFeature, Hello.manageFeature] : nil
            )), timeout: configuration.stallTimeout)
            guard let (user, storage) = try authenticate() else { return close(started, reason: "not logged in") }
            self.user = user
            // Opened by authenticate(), just before its answer.
            defer { server.status.sessionClosed() }
            logger[metadataKey: "user"] = "\(user.name)"
            try serveCommands(storage: storage)
            close(started, reason: "bye")
        } catch let error as ChannelClosed {
            close(started, reason: error.description)
        } catch let error as TimeoutError {
            lastWord(ErrorReply(.timeout, "\(error)"))
            close(started, reason: "\(error)")
        } catch let error as WireError {
            if user == nil, case .frameTooLarge(let length, _) = error, ProxyHeader.startsHeader(frameLength: length) {
                // Protocol 1's first frame: a proxy that is not in trusted_proxies sent its header.
                lastWord(Self.untrustedProxyReply(handle))
                close(started, reason: Self.untrustedProxyReason(handle))
                return
            }
            lastWord(ErrorReply(error.code, error.description))
            close(started, reason: "protocol violation: \(error)")
        } catch let error as UnframeableMessage {
            // A reply this server built does not fit a frame: a bug or an input nothing bounded. Only
            // this session ends; the client learns that the failure is the server's.
            logger.error("could not send a reply: \(error)")
            lastWord(ErrorReply(.internal, "the server could not send its reply; the session ends"))
            close(started, reason: "unsendable reply: \(error)")
        } catch {
            close(started, reason: "\(error)")
        }
    }

    /// A final error frame before closing, unless the stream is inside a body, where the client would
    /// take it for file data; then closing is the only signal.
    private func lastWord(_ reply: ErrorReply) {
        guard !channel.isInBody else { return }
        try? channel.send(.error(reply), timeout: .milliseconds(100))
    }

    private func close(_ started: ContinuousClock.Instant, reason: String) {
        channel.close()
        let seconds = (ContinuousClock.now - started).formattedSeconds
        logger.info("disconnected after \(seconds) s: \(reason)")
    }

    // MARK: commands

    private func serveCommands(storage: UserStorage) throws {
        // After an `upload` refused before its `partial` reply, the `chunk`s and the `commit` a
        // pipelining client sent behind it are read and dropped (docs/PROTOCOL.md 6.6.4).
        var skippingRefusedUpload = false
        while true {
            let message: Message
            do {
                message = try channel.receive(timeout: configuration.idleTimeout)
            } catch let error as WireError {
                guard case .malformedMessage = error else { throw error }
                // The frame itself was whole, so the stream is still in step: refuse it and go on.
                logger.notice("bad request: \(error)")
                try reply(.error(ErrorReply(.badRequest, error.description)))
                continue
            } catch let error as TimeoutError {
                throw TimeoutError(operation: "a command (idle for \(configuration.idleTimeout.formattedSeconds) s; \(error))")
            }
            if skippingRefusedUpload {
                switch message {
                case .chunk(let header):
                    try discardChunk(header)
                    continue
                case .commit:
                    skippingRefusedUpload = false
                    continue
                default:
                    skippingRefusedUpload = false
                }
            }
            guard handle.beginCommand() else { return }
            if let user {
                // The limits as configured now (a reload changes them for the next command), for
                // whatever bodies this command moves.
                let live = server.settings
                channel.throttle = server.bandwidth.throttle(for: live.users[user.name] ?? user, maxRate: live.configuration.maxRate)
            }
            do {
                switch storage {
                case .local(let root): guard try dispatch(message, root: root) else { return }
                case .s3(let settings, let prefix): guard try dispatch(message, settings: settings, prefix: prefix) else { return }
                }
            } catch let refusal as ErrorReply {
                logger.notice("\(message.type) refused: \(refusal.code): \(refusal.message)")
                try reply(.error(refusal))
                if case .upload = message, !uploadAnswered { skippingRefusedUpload = true }
            }
            guard handle.endCommand() else { return }
        }
    }

    /// Serves one command on a local root; false after `bye`.
    private func dispatch(_ message: Message, root: ShareRoot) throws -> Bool {
        switch message {
        case .list(let request): try list(request, root: root)
        case .stat(let request): try stat(request, root: root)
        case .get(let request): try transfer("get", request.path) { try get(request, root: root) }
        case .put(let request): try transfer("put", request.path) { try put(request, root: root) }
        case .fetch where !configuration.offersChunks, .upload where !configuration.offersChunks,
             .mkdir where !configuration.offersChunks:
            throw ErrorReply(.unsupported, "this server does not offer \"\(message.type)\" (feature \(Hello.chunksFeature))")
        case .fetch(let request): try transfer(request.chunks == [] ? "manifest" : "get", request.path) { try fetch(request, root: root) }
        case .upload(let request): try transfer("put", request.path) { try upload(request, root: root) }
        case .mkdir(let request): try makeDirectory(request, root: root)
        case .rmdir where !configuration.offersChunks, .rm where !configuration.offersChunks,
             .rename where !configuration.offersChunks, .df where !configuration.offersChunks:
            throw ErrorReply(.unsupported, "this server does not offer \"\(message.type)\" (feature \(Hello.manageFeature))")
        case .rmdir(let request): try removeDirectory(request, root: root)
        case .rm(let request): try remove(request, root: root)
        case .rename(let request): try rename(request, root: root)
        case .df: try diskUsage(root: root)
        case .bye: return false
        case .authStart, .authFinish:
            throw ErrorReply(.badRequest, "already logged in")
        default:
            throw ErrorReply(.badRequest, "unexpected message \"\(message.type)\"")
        }
        return true
    }

    /// Reads and drops the body of a chunk sent behind a refused upload.
    private func discardChunk(_ header: ChunkHeader) throws {
        guard header.size >= 0, header.size <= ChunkGrid.size else {
            throw WireError.malformedMessage("a chunk is at most \(ChunkGrid.size) bytes, not \(header.size)")
        }
        try withChunkBuffer { buffer in
            var left = UInt64(header.size)
            channel.beginBody()
            while left > 0 {
                let count = try channel.readBody(into: buffer, remaining: left, timeout: configuration.stallTimeout)
                if count == 0 { throw WireError.truncated(expected: UInt64(header.size), received: UInt64(header.size) - left) }
                left -= UInt64(count)
            }
            channel.endBody()
        }
    }

    /// Sends a reply, waiting no longer than the stall timeout for the client to take it.
    func reply(_ message: Message) throws {
        try channel.send(message, timeout: configuration.stallTimeout)
    }
}

extension WireError {
    /// The error code a violation is reported with.
    var code: ErrorCode {
        switch self {
        case .frameTooLarge: .tooLarge
        default: .badRequest
        }
    }
}

extension Duration {
    /// Seconds with two decimals, for logs.
    var formattedSeconds: String {
        // Integer arithmetic: String(format:) went through Foundation's formatter on every transfer.
        let (seconds, attoseconds) = components
        let hundredths = seconds * 100 + (attoseconds + 5_000_000_000_000_000) / 10_000_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
