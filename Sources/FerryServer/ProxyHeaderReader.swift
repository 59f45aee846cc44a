import FerryPosix
import FerryWire

/// Reads the PROXY protocol v2 header a trusted proxy sends before anything else on a connection,
/// taking exactly its bytes off the socket: what follows (a TLS ClientHello, frames) is left for the
/// session.
enum ProxyHeaderReader {
    /// How the reading ended.
    enum Outcome: Equatable {
        case header(ProxyHeader)
        /// Bytes that are not a header ferryd accepts; the reason, for the log.
        case invalid(String)
        /// The peer closed (or reset) the connection after `received` bytes.
        case closed(received: Int)
        /// The deadline passed after `received` bytes.
        case timedOut(received: Int)
    }

    /// Reads until a whole header, something that cannot be one, the end of the connection or
    /// `deadline`, whichever comes first.
    static func read(from socket: Socket, deadline: ContinuousClock.Instant) -> Outcome {
        var received: [UInt8] = []
        while true {
            let wanted: Int
            switch ProxyHeader.parse(received) {
            case .header(let header, _): return .header(header)
            case .invalid(let reason): return .invalid(reason)
            case .needMore(let count): wanted = count
            }
            var buffer = [UInt8](repeating: 0, count: wanted)
            let count: Int
            do {
                let left = deadline - .now
                guard left > .zero else { return .timedOut(received: received.count) }
                count = try buffer.withUnsafeMutableBytes { try socket.read(into: $0, timeout: left) }
            } catch is TimeoutError {
                return .timedOut(received: received.count)
            } catch {
                return .closed(received: received.count)
            }
            guard count > 0 else { return .closed(received: received.count) }
            received += buffer.prefix(count)
        }
    }
}
