#if canImport(Glibc)
import Glibc
#endif

/// A connected, non-blocking TCP socket whose reads and writes wait at most a given time for progress.
///
/// Waiting is done with poll(2) on the caller's own thread, so a stalled peer costs a sleeping thread,
/// never a busy one, and the time limit is enforced by the kernel.
public final class Socket: Sendable {
    /// The owned descriptor.
    public let descriptor: Descriptor
    /// The remote end, when known.
    public let peer: SocketAddress?

    /// Adopts an already connected, non-blocking descriptor.
    public init(adopting descriptor: Descriptor, peer: SocketAddress?) {
        self.descriptor = descriptor
        self.peer = peer
        try? Posix.setsockopt(descriptor.rawValue, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: Int32(1))
    }

    /// This end's address and port; nil when the socket is closed.
    public var localAddress: SocketAddress? {
        (try? Posix.getsockname(descriptor.rawValue)).map { SocketAddress(storage: $0) }
    }

    /// Connects to the first address of `host` that answers within `timeout`, from the local address
    /// `source` when one is given (a numeric address of the same family; the port is picked by the kernel).
    public static func connect(host: String, port: Int, timeout: Duration, source: String? = nil) throws -> Socket {
        var lastError: Error = ResolveError(host: host, reason: "no address")
        for address in try SocketAddress.resolve(host: host, port: port) {
            do {
                let fd = Descriptor(try Posix.socket(domain: address.family, type: Int32(SOCK_STREAM.rawValue)))
                try Posix.fcntlSetNonBlocking(fd.rawValue)
                if let source {
                    guard let local = try SocketAddress.resolve(host: source, port: 0).first(where: { $0.family == address.family })
                    else { throw ResolveError(host: source, reason: "no address of the server's family") }
                    try local.withSockAddr { (pointer, length) throws(PosixError) in
                        try Posix.bind(fd.rawValue, address: pointer, length: length)
                    }
                }
                let connected = try address.withSockAddr { (pointer, length) throws(PosixError) -> Bool in
                    try Posix.connect(fd.rawValue, address: pointer, length: length)
                }
                if !connected {
                    let events = try Posix.poll(fd.rawValue, events: Int16(POLLOUT), timeoutMilliseconds: timeout.milliseconds)
                    if events == 0 { throw TimeoutError(operation: "connect") }
                    let code = try Posix.socketError(fd.rawValue)
                    if code != 0 { throw PosixError(code: code, function: "connect") }
                }
                return Socket(adopting: fd, peer: address)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Reads what is available, waiting up to `timeout` (nil: forever) for the first byte. Returns 0 at end of stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        while true {
            if let count = try Posix.read(descriptor.rawValue, into: buffer) { return count }
            try wait(for: Int16(POLLIN), timeout: timeout, operation: "read")
        }
    }

    /// Writes every byte, waiting up to `timeout` each time the peer's window is full.
    public func write(_ buffer: UnsafeRawBufferPointer, timeout: Duration?) throws {
        var written = 0
        try write(buffer, timeout: timeout, written: &written)
    }

    /// Writes every byte as ``write(_:timeout:)`` does, adding to `written` the bytes the kernel took,
    /// also when it throws part way.
    public func write(_ buffer: UnsafeRawBufferPointer, timeout: Duration?, written: inout Int) throws {
        var rest = buffer
        while !rest.isEmpty {
            if let count = try Posix.write(descriptor.rawValue, from: rest) {
                written += count
                rest = UnsafeRawBufferPointer(rebasing: rest[count...])
            } else {
                try wait(for: Int16(POLLOUT), timeout: timeout, operation: "write")
            }
        }
    }

    /// Sends up to `count` bytes of `file` from `offset` with sendfile(2), advancing `offset`.
    /// Returns the bytes sent; 0 means the file ended early.
    public func sendFile(_ file: Descriptor, offset: inout Int64, count: Int, timeout: Duration?) throws -> Int {
        while true {
            if let sent = try Posix.sendfile(out: descriptor.rawValue, in: file.rawValue, offset: &offset, count: count) {
                return sent
            }
            try wait(for: Int16(POLLOUT), timeout: timeout, operation: "write")
        }
    }

    /// Wakes any thread blocked on this socket and refuses further I/O; safe from any thread.
    public func shutdown() { descriptor.shutdownSocket() }

    public func close() { descriptor.close() }

    /// Waits up to `timeout` (nil: forever) until a read would not block; throws ``TimeoutError`` otherwise.
    public func waitUntilReadable(timeout: Duration?) throws {
        try wait(for: Int16(POLLIN), timeout: timeout, operation: "read")
    }

    /// Waits up to `timeout` (nil: forever) until a write would not block; throws ``TimeoutError`` otherwise.
    public func waitUntilWritable(timeout: Duration?) throws {
        try wait(for: Int16(POLLOUT), timeout: timeout, operation: "write")
    }

    /// Copies up to `buffer.count` bytes that have arrived, without consuming them; nil when nothing
    /// has arrived yet, 0 at the end of the stream.
    public func peek(into buffer: UnsafeMutableRawBufferPointer) throws(PosixError) -> Int? {
        try Posix.peek(descriptor.rawValue, into: buffer)
    }

    private func wait(for events: Int16, timeout: Duration?, operation: String) throws {
        let ready = try Posix.poll(descriptor.rawValue, events: events, timeoutMilliseconds: timeout?.milliseconds ?? -1)
        if ready == 0 { throw TimeoutError(operation: operation) }
    }
}

extension Duration {
    /// Whole milliseconds for poll(2), rounded up and clamped to Int32.
    public var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let total = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(0, total))
    }
}
