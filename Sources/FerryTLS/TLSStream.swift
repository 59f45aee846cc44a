#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import FerryPosix
import FerryTransport

/// TLS 1.3 over a non-blocking ``Socket``: the stream protocol 2 speaks. Every wait is a poll(2) on
/// the socket bounded by the caller's timeout, as for a plain socket, so a silent or slow peer holds
/// up only its own thread. Owns its SSL object and frees it at deinit; the socket is shared.
public final class TLSStream: ByteStream {
    public let socket: Socket
    private let context: TLSContext
    private let ssl: OpaquePointer
    /// File bytes on their way into SSL_write: made at the first `sendFile`, so idle sessions hold none.
    private var fileBuffer: UnsafeMutableRawBufferPointer?
    private var closed = false

    /// Bytes of file read and encrypted per step when the kernel does not do TLS (no kTLS).
    public static let fileBufferSize = 256 * 1024

    /// Prepares TLS on `socket`; ``handshake(deadline:)`` runs it. A client names the server it expects
    /// (`serverName`, sent as SNI unless it is an address, and checked against the certificate when the
    /// context verifies with certificate authorities).
    public init(context: TLSContext, socket: Socket, serverName: String? = nil) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw TLSError.fromQueue("starting TLS") }
        self.ssl = ssl
        self.context = context
        self.socket = socket
        guard SSL_set_fd(ssl, socket.descriptor.rawValue) == 1 else { throw TLSError.fromQueue("starting TLS") }
        if let serverName, !context.isServer {
            if SocketAddress.isNumeric(serverName) == false {
                _ = ferry_SSL_set_tlsext_host_name(ssl, serverName)
            }
            if context.verification != .pinning {
                guard SSL_set1_host(ssl, serverName) == 1 else { throw TLSError.fromQueue("checking the host name \(serverName)") }
            }
        }
    }

    deinit {
        SSL_free(ssl)
        fileBuffer?.deallocate()
    }

    /// Runs the TLS handshake (accepting or connecting, by the context's side) until `deadline`.
    /// Throws ``TimeoutError`` when the deadline passes, ``TLSError`` when the peer does not speak TLS
    /// 1.3, fails verification or closes.
    ///
    /// `inspectFirstBytes` sees up to the first 2048 bytes the peer sends, as soon as any have come and
    /// before TLS reads them, and may throw to say what they are instead of a TLS record (a clear-text
    /// server's first frame, say).
    public func handshake(deadline: ContinuousClock.Instant, inspectFirstBytes: (([UInt8]) throws -> Void)? = nil) throws {
        var inspect = inspectFirstBytes
        while true {
            // Before OpenSSL reads anything: the peer's first bytes may be here already, or arrive after
            // our first flight (then the wait below wakes this loop again).
            if let check = inspect {
                var first = [UInt8](repeating: 0, count: 2048)
                let count = first.withUnsafeMutableBytes { (try? socket.peek(into: $0)) ?? nil } ?? 0
                if count > 0 {
                    inspect = nil
                    try check(Array(first.prefix(count)))
                }
            }
            let result = context.isServer ? SSL_accept(ssl) : SSL_connect(ssl)
            if result == 1 { return }
            let left = deadline - .now
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ:
                guard left > .zero else { throw TimeoutError(operation: "TLS handshake") }
                try socket.waitUntilReadable(timeout: left)
            case SSL_ERROR_WANT_WRITE:
                guard left > .zero else { throw TimeoutError(operation: "TLS handshake") }
                try socket.waitUntilWritable(timeout: left)
            case SSL_ERROR_SYSCALL where errno != 0 && ERR_peek_error() == 0:
                throw TLSError("TLS handshake", String(cString: strerror(errno)))
            default:
                let verify = SSL_get_verify_result(ssl)
                if !context.isServer, context.verification != .pinning, verify != X509_V_OK {
                    ERR_clear_error()
                    throw TLSError("certificate verification", String(cString: X509_verify_cert_error_string(verify)))
                }
                throw TLSError.fromQueue("TLS handshake", fallback: "the peer closed the connection during the TLS handshake")
            }
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        while true {
            var count = 0
            let result = SSL_read_ex(ssl, base, buffer.count, &count)
            if result == 1 { return count }
            if try waitFor(SSL_get_error(ssl, result), timeout: timeout, operation: "TLS read") == .ended { return 0 }
        }
    }

    /// Writes every byte; `written` counts the bytes OpenSSL took (partial writes are enabled, so
    /// that is close to what reached the socket), also when it throws part way.
    public func write(_ buffer: UnsafeRawBufferPointer, timeout: Duration?, written: inout Int) throws {
        var rest = buffer
        while let base = rest.baseAddress, !rest.isEmpty {
            var count = 0
            let result = SSL_write_ex(ssl, base, rest.count, &count)
            if result == 1 {
                written += count
                rest = UnsafeRawBufferPointer(rebasing: rest[count...])
                continue
            }
            if try waitFor(SSL_get_error(ssl, result), timeout: timeout, operation: "TLS write") == .ended {
                throw PosixError(code: EPIPE, function: "SSL_write")
            }
        }
    }

    /// With kTLS (the kernel encrypts this connection's writes), SSL_sendfile sends straight from the
    /// page cache. Without it, which is this kernel's case, the file is read with pread(2) in large
    /// pieces and written through OpenSSL.
    public func sendFile(_ file: Descriptor, offset: inout Int64, count: Int, timeout: Duration?) throws -> Int {
        if ferry_SSL_ktls_send(ssl) == 1 {
            while true {
                let sent = SSL_sendfile(ssl, file.rawValue, off_t(offset), count, 0)
                if sent > 0 {
                    offset += Int64(sent)
                    return sent
                }
                if sent == 0 { return 0 }
                if try waitFor(SSL_get_error(ssl, Int32(truncatingIfNeeded: sent)), timeout: timeout, operation: "TLS sendfile") == .ended {
                    throw PosixError(code: EPIPE, function: "SSL_sendfile")
                }
            }
        }
        let buffer: UnsafeMutableRawBufferPointer
        if let fileBuffer {
            buffer = fileBuffer
        } else {
            buffer = .allocate(byteCount: Self.fileBufferSize, alignment: 4096)
            fileBuffer = buffer
        }
        let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(count, buffer.count)])
        let read = try Posix.pread(file.rawValue, into: piece, offset: offset)
        guard read > 0 else { return 0 }
        // The offset moves by what was written, also when the write fails part way.
        var written = 0
        defer { offset += Int64(written) }
        try write(UnsafeRawBufferPointer(rebasing: piece[..<read]), timeout: timeout, written: &written)
        return read
    }

    /// Sends close_notify if it can without waiting, then closes the socket.
    public func close() {
        if !closed && socket.descriptor.isOpen {
            closed = true
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        socket.close()
    }

    /// RFC 5705 keying material: `length` bytes for `label` with no context, the same on both ends of
    /// this connection and on no other. With the label "EXPORTER-Channel-Binding" and 32 bytes, it is
    /// RFC 9266's `tls-exporter` channel binding.
    public func keyingMaterial(label: String, length: Int) throws(TLSError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        let labelBytes = Array(label.utf8)
        let result = output.withUnsafeMutableBufferPointer { out in
            labelBytes.withUnsafeBufferPointer { text in
                text.withMemoryRebound(to: CChar.self) { chars in
                    SSL_export_keying_material(ssl, out.baseAddress, length, chars.baseAddress, chars.count, nil, 0, 0)
                }
            }
        }
        guard result == 1 else { throw TLSError.fromQueue("exporting keying material") }
        return output
    }

    /// The `tls-exporter` channel binding of RFC 9266: 32 bytes of keying material.
    public func channelBinding() throws(TLSError) -> [UInt8] {
        try keyingMaterial(label: "EXPORTER-Channel-Binding", length: 32)
    }

    /// The fingerprint of the key the peer presented in the handshake, if it presented one.
    public var peerFingerprint: KeyFingerprint? {
        guard let certificate = SSL_get0_peer_certificate(ssl) else { return nil }
        return KeyFingerprint.of(certificate: certificate)
    }

    /// The negotiated protocol, "TLSv1.3".
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    private enum Progress { case retry, ended }

    /// Waits as `error` asks (readable or writable) within `timeout` and says to retry; says `ended` at
    /// a clean or unannounced end of stream; throws for anything else.
    private func waitFor(_ error: Int32, timeout: Duration?, operation: String) throws -> Progress {
        switch error {
        case SSL_ERROR_WANT_READ:
            try socket.waitUntilReadable(timeout: timeout)
            return .retry
        case SSL_ERROR_WANT_WRITE:
            try socket.waitUntilWritable(timeout: timeout)
            return .retry
        case SSL_ERROR_ZERO_RETURN:
            return .ended
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            if errno == 0 { return .ended }
            throw PosixError(code: errno, function: operation)
        default:
            throw TLSError.fromQueue(operation)
        }
    }
}
