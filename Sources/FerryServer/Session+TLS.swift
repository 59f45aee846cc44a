import FerryPosix
import FerryTLS
import FerryTransport
import FerryWire
import Logging

extension Session {
    /// How long a connection may stay silent before ferryd concludes it is not a TLS client (a TLS
    /// client sends its ClientHello at once) and tells it so in protocol 1's words.
    static let clearTextHintDelay: Duration = .seconds(3)

    /// Protocol 2's first step, on the connection's own thread and within the login timeout: waits for
    /// the ClientHello and runs the TLS handshake. Returns nil when the connection ends there; the
    /// reason is logged once.
    ///
    /// A peer that says nothing for ``clearTextHintDelay`` (or the login timeout, if shorter), or whose first byte cannot start a TLS
    /// record, is most likely a protocol-1 client waiting for `hello`: it gets one clear-text `error`
    /// frame saying that this server speaks TLS, and the connection closes. Nothing else is ever sent
    /// in clear.
    static func secure(_ handle: ConnectionHandle, context: TLSContext, deadline: ContinuousClock.Instant, logger: Logger) -> TLSStream? {
        let socket = handle.socket
        let started = ContinuousClock.now
        let hintAt = min(deadline, started + clearTextHintDelay)
        do {
            try socket.waitUntilReadable(timeout: hintAt - .now)
        } catch is TimeoutError {
            refuseClearText(socket, logger: logger, why: "said nothing for \((hintAt - started).formattedSeconds) s")
            return nil
        } catch {
            logger.notice("disconnected before the TLS handshake: \(error)")
            return nil
        }
        var head = [UInt8](repeating: 0, count: ProxyHeader.fixedLength)
        let peeked = head.withUnsafeMutableBytes { buffer -> Int? in (try? socket.peek(into: buffer)) ?? nil }
        guard let peeked, peeked > 0 else {
            logger.info("disconnected before the TLS handshake")
            return nil
        }
        if ProxyHeader.looksLikeHeader(head.prefix(peeked)) {
            logger.notice("\(untrustedProxyReason(handle)): told so in clear text and closed")
            socket.discardFirstFlight()
            try? MessageChannel(stream: socket).send(.error(untrustedProxyReply(handle)), timeout: .milliseconds(200))
            return nil
        }
        // Every TLS record, and so every ClientHello, starts with its content type: 22 (handshake).
        let first = head[0]
        guard first == 0x16 else {
            refuseClearText(socket, logger: logger, why: "sent a first byte that cannot start TLS (0x\(String(first, radix: 16)))")
            return nil
        }
        do {
            let stream = try TLSStream(context: context, socket: socket)
            try stream.handshake(deadline: deadline)
            return stream
        } catch {
            logger.notice("TLS handshake failed: \(error)")
            return nil
        }
    }

    private static func refuseClearText(_ socket: Socket, logger: Logger, why: String) {
        logger.notice("not a TLS client (it \(why)): told so in clear text and closed")
        let reply = ErrorReply(.unsupported, "this server speaks TLS (Ferry protocol 2); connect with a TLS client (ferry without --no-tls)")
        try? MessageChannel(stream: socket).send(.error(reply), timeout: .milliseconds(200))
    }
}
