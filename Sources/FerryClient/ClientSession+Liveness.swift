import FerryPosix
import FerryTransport
import FerryWire

extension ClientSession {
    /// Whether the connection can still carry a command: false once it is closed, or when the server
    /// has said something unasked (its idle time-out, its shutdown) or hung up while we were idle.
    /// Reads nothing a command would need: an idle connection has nothing pending but TLS housekeeping,
    /// which a receive that waits a millisecond consumes and then reports as a time-out.
    public var isUsable: Bool {
        guard channel.socket.descriptor.isOpen else { return false }
        do {
            _ = try channel.receive(timeout: .milliseconds(1))
        } catch is TimeoutError {
            return true
        } catch {
            return false
        }
        return false
    }

    /// Stops whatever this session is doing, from any thread: the socket is shut down, so a blocked read
    /// or write fails at once. The session cannot be used afterwards.
    var stopper: @Sendable () -> Void {
        let descriptor = channel.socket.descriptor
        return { descriptor.shutdownSocket() }
    }
}
