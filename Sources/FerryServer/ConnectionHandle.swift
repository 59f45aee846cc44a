import FerryPosix
import Synchronization

/// The server's view of one connection, shared between the connection's thread and shutdown:
/// whether it is between commands, and whether the server wants it gone.
///
/// Its addresses are the client's: for a connection relayed by a trusted proxy, the ones the proxy's
/// PROXY header named (a connection from a proxy is handled under a provisional handle with the
/// proxy's own until the header has been read, then under a new one).
final class ConnectionHandle: Sendable {
    let socket: Socket
    /// The client's IP address: what bans, login throttles, connection limits and the transfer log go by.
    let address: String
    /// The client's address and port, for the log (`peer=`).
    let peer: String
    /// The address and port of the trusted proxy that relayed the connection, nil for a direct one.
    let proxy: String?

    private struct State {
        var busy = false
        var draining = false
    }
    private let state = Mutex(State())

    init(socket: Socket, address: String, peer: String, proxy: String? = nil) {
        self.socket = socket
        self.address = address
        self.peer = peer
        self.proxy = proxy
    }

    /// Called when a command arrives; false when the server is shutting down and the command must not start.
    func beginCommand() -> Bool {
        state.withLock { state in
            if state.draining { return false }
            state.busy = true
            return true
        }
    }

    /// Called when a command is done; false when the session should end because the server is stopping.
    func endCommand() -> Bool {
        state.withLock { state in
            state.busy = false
            return !state.draining
        }
    }

    /// Asks the connection to end: at once when idle, after its command when busy.
    func drain() {
        let idle = state.withLock { state -> Bool in
            state.draining = true
            return !state.busy
        }
        if idle { socket.shutdown() }
    }

    /// Ends the connection now, whatever it is doing.
    func terminate() { socket.shutdown() }
}
