#if canImport(Glibc)
import Glibc
#endif

/// A bound, non-blocking UDP socket: one datagram per send or receive, each with its peer's address.
///
/// Sends never wait: a datagram that finds the send buffer full is dropped, as the network may drop
/// it anyway. Receives either return at once or wait with poll(2) for at most a given time.
public final class DatagramSocket: Sendable {
    /// The owned descriptor, for registering with a dispatch source.
    public let descriptor: Descriptor
    /// The address actually bound; its port is the real one when 0 was asked for.
    public let localAddress: SocketAddress

    /// One datagram received.
    public struct Datagram: Sendable {
        /// Bytes placed in the buffer.
        public let count: Int
        /// The datagram's whole length: more than ``count`` when the buffer was too small for it.
        public let length: Int
        /// Where it came from.
        public let source: SocketAddress
        /// Whether part of it was cut off for want of room.
        public var isTruncated: Bool { length > count }
    }

    /// Binds exactly `address` (port 0: any free port). An IPv6 address is bound for IPv6 only, as
    /// ``ListeningSocket`` does. No SO_REUSEADDR: on UDP it would let a second socket share the port.
    public init(binding address: SocketAddress) throws(PosixError) {
        let fd = Descriptor(try Posix.socket(domain: address.family, type: Int32(SOCK_DGRAM.rawValue)))
        if address.family == AF_INET6 {
            try Posix.setsockopt(fd.rawValue, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: Int32(1))
        }
        try address.withSockAddr { (pointer, length) throws(PosixError) in
            try Posix.bind(fd.rawValue, address: pointer, length: length)
        }
        try Posix.fcntlSetNonBlocking(fd.rawValue)
        descriptor = fd
        localAddress = SocketAddress(storage: try Posix.getsockname(fd.rawValue))
    }

    /// A socket for talking to `peer`: bound to any local address of its family, on a port the kernel picks.
    public static func forPeer(_ peer: SocketAddress) throws(PosixError) -> DatagramSocket {
        var wildcard = sockaddr_storage()
        wildcard.ss_family = sa_family_t(peer.family)
        return try DatagramSocket(binding: SocketAddress(storage: wildcard))
    }

    /// Sends `bytes` as one datagram to `destination`; false when the send buffer was full and it was dropped.
    @discardableResult
    public func send(_ bytes: [UInt8], to destination: SocketAddress) throws(PosixError) -> Bool {
        let fd = descriptor.rawValue
        return try destination.withSockAddr { (address, length) throws(PosixError) -> Bool in
            // Array's withUnsafeBytes rethrows untyped errors: carry the typed one out as a Result.
            try bytes.withUnsafeBytes { buffer in
                Result { () throws(PosixError) in try Posix.sendto(fd, from: buffer, to: address, length: length) != nil }
            }.get()
        }
    }

    /// Takes one waiting datagram into `buffer` (the rest of a longer one is lost); nil when none is waiting.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(PosixError) -> Datagram? {
        var source = sockaddr_storage()
        guard let length = try Posix.recvfrom(descriptor.rawValue, into: buffer, source: &source) else { return nil }
        return Datagram(count: min(length, buffer.count), length: length, source: SocketAddress(storage: source))
    }

    /// Takes one datagram into `buffer`, waiting for it up to `timeout`; nil when none came in time.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration) throws(PosixError) -> Datagram? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let datagram = try receive(into: buffer) { return datagram }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            _ = try Posix.poll(descriptor.rawValue, events: Int16(POLLIN), timeoutMilliseconds: left.milliseconds)
        }
    }

    public func close() { descriptor.close() }
}
