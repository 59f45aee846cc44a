import Dispatch
import FerryPosix
import FerryWire
import Logging
import Synchronization

/// Answers status probes (docs/PROTOCOL.md section 11) on a UDP socket bound to the TCP listener's
/// address and port.
///
/// One Dispatch read source on a serial queue of its own takes the datagrams, a batch per wake-up: no
/// thread per datagram, and nothing shared with the accept queue or the connection threads but the
/// status atomics, so a flood of probes slows no file transfer. Malformed datagrams (too short, too
/// long, not a request) are dropped without an answer and counted; well-formed ones are answered as
/// far as ``SourceRateLimiter`` allows, and never with more bytes than they brought.
final class StatusResponder: Sendable {
    /// The address the probes are answered on.
    let address: SocketAddress
    private let socket: DatagramSocket
    private let status: ServerStatus
    private let logger: Logger
    private let queue = DispatchQueue(label: "ferryd.status")
    /// Used only on `queue`; the lock is never contended.
    private let limiter: Mutex<SourceRateLimiter>
    /// Signalled by the source's cancel handler, once the socket is closed.
    private let closed = DispatchSemaphore(value: 0)

    /// Dispatch sources may be used from any thread; this box lets one sit in the locked state.
    private final class ReadSource: @unchecked Sendable {
        let source: any DispatchSourceRead
        init(_ source: any DispatchSourceRead) { self.source = source }
    }

    private struct State {
        var source: ReadSource?
        var stopped = false
    }
    private let state = Mutex(State())

    /// Datagrams taken per wake-up before the queue is let go.
    static let batch = 64

    /// Binds `address` (the TCP listener's: same host, same port).
    init(address: SocketAddress, status: ServerStatus, logger: Logger, limiter: SourceRateLimiter = SourceRateLimiter()) throws(PosixError) {
        socket = try DatagramSocket(binding: address)
        self.address = socket.localAddress
        self.status = status
        self.logger = logger
        self.limiter = Mutex(limiter)
    }

    /// Starts answering.
    func start() {
        let source = DispatchSource.makeReadSource(fileDescriptor: socket.descriptor.rawValue, queue: queue)
        source.setEventHandler { @Sendable [self] in drain() }
        source.setCancelHandler { @Sendable [socket, closed] in
            socket.close()
            closed.signal()
        }
        source.resume()
        let stopped = state.withLock { state in
            if !state.stopped { state.source = ReadSource(source) }
            return state.stopped
        }
        if stopped { source.cancel() }
    }

    /// Stops answering and closes the socket; returns once it is closed (at most a second later).
    func stop() {
        let running = state.withLock { state -> Bool in
            state.stopped = true
            guard let source = state.source else { return false }
            source.source.cancel()
            state.source = nil
            return true
        }
        if running {
            _ = closed.wait(timeout: .now() + .seconds(1))
        } else {
            socket.close()
        }
    }

    /// Answers the datagrams waiting, up to ``batch`` of them. Runs on `queue`.
    private func drain() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: StatusProbe.maximumRequestLength, alignment: 8)
        defer { buffer.deallocate() }
        for _ in 0..<Self.batch {
            let datagram: DatagramSocket.Datagram
            do {
                guard let received = try socket.receive(into: buffer) else { return }
                datagram = received
            } catch {
                logger.warning("status probe socket: \(error)")
                return
            }
            answer(UnsafeRawBufferPointer(rebasing: buffer[0..<datagram.count]), length: datagram.length, from: datagram.source)
        }
    }

    /// Answers one datagram of `length` bytes (of which `bytes` arrived; fewer when it was cut off).
    private func answer(_ bytes: UnsafeRawBufferPointer, length: Int, from source: SocketAddress) {
        let nonce: UInt64
        do {
            guard length == bytes.count else { throw StatusProbeError.tooLong(length) }
            nonce = try StatusProbe.parseRequest(bytes)
        } catch {
            status.malformedDropped()
            logger.debug("dropped a status probe from \(source): \(error)")
            return
        }
        guard limiter.withLock({ $0.allow(source.host, at: .now) }) else { return }
        let reply = StatusProbe.reply(nonce: nonce, status: status.report())
        guard reply.count <= length else { return }
        do {
            try socket.send(reply, to: source)
        } catch {
            logger.debug("could not answer a status probe from \(source): \(error)")
        }
    }
}
