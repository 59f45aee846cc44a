import FerryPosix
import FerryWire

/// Sends status probes (docs/PROTOCOL.md section 11) to one server over UDP and waits for their replies.
///
/// Each probe carries a fresh random nonce; only a well-formed reply from the server's address that
/// echoes it counts, so a late reply to an earlier probe, or a datagram from anyone else, is passed over.
public final class StatusProbeClient {
    /// The address probed: the first the host name resolves to.
    public let server: SocketAddress
    private let socket: DatagramSocket

    /// One answered probe.
    public struct Reply: Sendable {
        public let status: StatusReport
        /// From sending the request to receiving the reply.
        public let roundTrip: Duration
    }

    /// Resolves `host` and opens a socket for probing it on `port`.
    public init(host: String, port: Int) throws(ClientError) {
        let addresses: [SocketAddress]
        do { addresses = try SocketAddress.resolve(host: host, port: port) } catch { throw ClientError(error.description) }
        guard let address = addresses.first else { throw ClientError("cannot resolve \(host): no address") }
        server = address
        do {
            socket = try DatagramSocket.forPeer(server)
        } catch {
            throw ClientError("cannot open a UDP socket: \(error.reason)")
        }
    }

    /// Sends one probe and waits up to `timeout` for its reply; nil when none came.
    public func probe(timeout: Duration) throws(ClientError) -> Reply? {
        let nonce = UInt64.random(in: .min ... .max)
        let sent = ContinuousClock.now
        let deadline = sent + timeout
        do {
            try socket.send(StatusProbe.request(nonce: nonce), to: server)
        } catch {
            throw ClientError("cannot send to \(server): \(error.reason)")
        }
        var buffer = [UInt8](repeating: 0, count: StatusProbe.minimumRequestLength)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            let datagram: DatagramSocket.Datagram?
            do {
                datagram = try buffer.withUnsafeMutableBytes { raw in
                    Result { () throws(PosixError) in try socket.receive(into: raw, timeout: left) }
                }.get()
            } catch {
                throw ClientError("cannot receive from \(server): \(error.reason)")
            }
            guard let datagram else { return nil }
            let received = ContinuousClock.now
            guard datagram.source.description == server.description, !datagram.isTruncated,
                  let (echoed, status) = try? StatusProbe.parseReply(buffer[0..<datagram.count]), echoed == nonce
            else { continue }
            return Reply(status: status, roundTrip: received - sent)
        }
    }
}
