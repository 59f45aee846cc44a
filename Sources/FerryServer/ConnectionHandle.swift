import FerryPosix
import Synchronization

/// The server's view of one connection, shared between the connection's thread and shutdown:
/// whether it is between commands, and whether the server wants it gone.
final class ConnectionHandle: Sendable {
    let socket: Socket
    let address: String

    private struct State {
        var busy = false
        var draining = false
    }
    private let state = Mutex(State())

    init(socket: Socket, address: String) {
        self.socket = socket
        self.address = address
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
