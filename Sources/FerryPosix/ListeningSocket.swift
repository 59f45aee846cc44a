#if canImport(Glibc)
import Glibc
#endif

/// A bound, listening, non-blocking TCP socket with SO_REUSEADDR.
public final class ListeningSocket: Sendable {
    /// The owned descriptor, for registering with a dispatch source.
    public let descriptor: Descriptor
    /// The address actually bound; its port is the real one when 0 was asked for.
    public let localAddress: SocketAddress

    /// Binds `host:port` (port 0: any free port) and listens.
    public init(host: String, port: Int, backlog: Int32 = 1024) throws {
        guard let address = try SocketAddress.resolve(host: host, port: port).first else {
            throw ResolveError(host: host, reason: "no address")
        }
        let fd = Descriptor(try Posix.socket(domain: address.family, type: Int32(SOCK_STREAM.rawValue)))
        try Posix.setsockopt(fd.rawValue, level: SOL_SOCKET, name: SO_REUSEADDR, value: Int32(1))
        if address.family == AF_INET6 {
            try Posix.setsockopt(fd.rawValue, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: Int32(1))
        }
        try address.withSockAddr { (pointer, length) throws(PosixError) in
            try Posix.bind(fd.rawValue, address: pointer, length: length)
        }
        try Posix.listen(fd.rawValue, backlog: backlog)
        try Posix.fcntlSetNonBlocking(fd.rawValue)
        descriptor = fd
        localAddress = SocketAddress(storage: try Posix.getsockname(fd.rawValue))
    }

    /// Accepts one pending connection, or returns nil when none is waiting.
    public func accept() throws(PosixError) -> Socket? {
        var peer = sockaddr_storage()
        guard let fd = try Posix.accept(descriptor.rawValue, peer: &peer) else { return nil }
        return Socket(adopting: Descriptor(fd), peer: SocketAddress(storage: peer))
    }

    public func close() { descriptor.close() }
}
