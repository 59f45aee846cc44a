import FerryPosix
import FerryTransport
import FerryWire
import Logging

/// The first steps of a connection from one of `trusted_proxies`, on the connection's own thread,
/// before the TLS handshake (docs/PROTOCOL.md, section 1.2): the PROXY protocol v2 header the proxy
/// must send first, and the client it names.
///
/// A PROXY command makes the client's address the connection's: bans, login throttles, connection
/// limits, the log's `peer=` and the transfer log go by it. A LOCAL command (the proxy's own
/// connection, such as a health check) leaves the proxy as the peer, and the connection proceeds as a
/// direct one would. Anything else (no header, a malformed one, version 1, UNIX sockets, UDP, nothing
/// within the login timeout) ends the connection, with one `bad_request` frame in clear for whoever is
/// behind the proxy, and one line in the log.
struct ProxiedConnection {
    let provisional: ConnectionHandle
    /// The end of the login timeout, which runs from the accept: the header comes out of it.
    let deadline: ContinuousClock.Instant
    let logger: Logger

    /// The handle the connection goes on under: the client's, or the proxy's own for LOCAL; nil when
    /// the connection ends here (logged).
    func client() -> (handle: ConnectionHandle, local: Bool)? {
        let proxy = provisional.peer
        switch ProxyHeaderReader.read(from: provisional.socket, deadline: deadline) {
        case .header(.local):
            return (provisional, true)
        case .header(.proxied(let source, _)):
            return (ConnectionHandle(socket: provisional.socket, address: source.address.description, peer: source.description, proxy: proxy), false)
        case .invalid(let reason):
            refuse("sent \(reason)")
        case .timedOut(let received):
            refuse("sent no whole PROXY header within the login timeout (\(received) bytes)")
        case .closed(0):
            logger.debug("\(proxy), a trusted proxy, closed without sending anything (a health check without a PROXY header?)")
        case .closed(let received):
            logger.notice("\(proxy), a trusted proxy, closed after \(received) bytes of a PROXY header")
        }
        return nil
    }

    /// False when a LOCAL connection over TLS turns out to be a health check: it closes before sending
    /// anything more (logged at debug level only, not as a session).
    static func expectsMore(over handle: ConnectionHandle, local: Bool, tls: Bool, deadline: ContinuousClock.Instant,
                            logger: Logger) -> Bool {
        // In clear text the server speaks first, so silence tells nothing there.
        guard local, tls else { return true }
        try? handle.socket.waitUntilReadable(timeout: min(deadline - .now, Session.clearTextHintDelay))
        var byte: UInt8 = 0
        let peeked = withUnsafeMutableBytes(of: &byte) { buffer -> Int? in
            do { return try handle.socket.peek(into: buffer) } catch { return 0 }
        }
        guard peeked == 0 else { return true }
        logger.debug("health check from \(handle.peer), a trusted proxy (PROXY LOCAL, then closed)")
        return false
    }

    /// Logs why the connection ends and tells whoever is behind the proxy, in clear: no TLS was set up.
    private func refuse(_ what: String) {
        let address = provisional.address
        logger.warning("refused \(provisional.peer), a trusted proxy (trusted_proxies): it \(what)")
        let reply = ErrorReply(.badRequest, "this server takes connections from \(address) only behind a PROXY protocol v2 header (\(address) is in its trusted_proxies), but this connection \(what)")
        provisional.socket.discardFirstFlight()
        try? MessageChannel(stream: provisional.socket).send(.error(reply), timeout: .milliseconds(200))
    }
}
