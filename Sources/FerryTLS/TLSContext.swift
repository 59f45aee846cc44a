#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import FerryPosix

/// An OpenSSL SSL_CTX set up the way Ferry speaks TLS: TLS 1.3 only, OpenSSL's default ciphers, no
/// session resumption, no renegotiation (1.3 has none), buffers released while a connection is idle.
/// Owns the context and frees it at deinit. Safe to share between threads once made.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    /// Whether connections made from this context are servers.
    public let isServer: Bool
    /// How a client decides to trust the server: pinning (checked by the caller against known keys) or
    /// verification by certificate authorities in OpenSSL.
    public let verification: Verification

    /// How a client trusts a server.
    public enum Verification: Sendable, Equatable {
        /// Accept any certificate in the handshake; the caller compares the key's fingerprint.
        case pinning
        /// Verify the chain against the CA certificates in a PEM file, and the host name.
        case authorityFile(String)
        /// Verify the chain against the system's CA store, and the host name.
        case systemAuthorities
    }

    private init(server: Bool, verification: Verification) throws(TLSError) {
        guard let context = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.fromQueue("creating a TLS context")
        }
        self.context = context
        isServer = server
        self.verification = verification
        guard ferry_SSL_CTX_require_tls13(context) == 1 else { throw TLSError.fromQueue("requiring TLS 1.3") }
        _ = ferry_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // An end of stream without close_notify reads as an end of stream: Ferry's own framing and
        // sizes tell a cut transfer from a finished one.
        ferry_SSL_CTX_set_ferry_options(context)
        // Bodies arrive as long runs of 16 KiB records: read them ahead, many per read(2). With
        // SSL_MODE_RELEASE_BUFFERS an idle connection gives the buffer back.
        ferry_SSL_CTX_read_ahead(context, Self.readBufferSize)
        _ = ferry_SSL_CTX_disable_session_cache(context)
        _ = SSL_CTX_set_num_tickets(context, 0)
    }

    deinit { SSL_CTX_free(context) }

    /// Bytes OpenSSL reads ahead per read(2) on a connection.
    static let readBufferSize = 256 * 1024

    /// A server context with the certificate chain and private key in these PEM files. Fails with one
    /// reason naming the file: unreadable, malformed, or a key that does not match the certificate.
    public static func server(certificate: String, privateKey: String) throws(TLSError) -> TLSContext {
        let made = try TLSContext(server: true, verification: .pinning)
        try readable(certificate, what: "certificate")
        try readable(privateKey, what: "private key")
        guard SSL_CTX_use_certificate_chain_file(made.context, certificate) == 1 else {
            throw TLSError.fromQueue("certificate \(certificate)", fallback: "not a PEM certificate")
        }
        guard SSL_CTX_use_PrivateKey_file(made.context, privateKey, SSL_FILETYPE_PEM) == 1 else {
            if ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH {
                ERR_clear_error()
                throw TLSError("private key \(privateKey)", "does not match the certificate \(certificate)")
            }
            throw TLSError.fromQueue("private key \(privateKey)", fallback: "not a PEM private key")
        }
        guard SSL_CTX_check_private_key(made.context) == 1 else {
            ERR_clear_error()
            throw TLSError("private key \(privateKey)", "does not match the certificate \(certificate)")
        }
        SSL_CTX_set_verify(made.context, SSL_VERIFY_NONE, nil)
        return made
    }

    /// A client context trusting servers as `verification` says.
    public static func client(_ verification: Verification) throws(TLSError) -> TLSContext {
        let made = try TLSContext(server: false, verification: verification)
        switch verification {
        case .pinning:
            SSL_CTX_set_verify(made.context, SSL_VERIFY_NONE, nil)
        case .authorityFile(let path):
            try readable(path, what: "CA file")
            guard SSL_CTX_load_verify_locations(made.context, path, nil) == 1 else {
                throw TLSError.fromQueue("CA file \(path)", fallback: "no PEM certificates in it")
            }
            SSL_CTX_set_verify(made.context, SSL_VERIFY_PEER, nil)
        case .systemAuthorities:
            guard SSL_CTX_set_default_verify_paths(made.context) == 1 else {
                throw TLSError.fromQueue("the system's CA store")
            }
            SSL_CTX_set_verify(made.context, SSL_VERIFY_PEER, nil)
        }
        return made
    }

    /// The fingerprint of this server context's own key.
    public var fingerprint: KeyFingerprint? {
        guard let certificate = SSL_CTX_get0_certificate(context) else { return nil }
        return KeyFingerprint.of(certificate: certificate)
    }

    /// Throws a reason naming the file when it cannot be opened for reading.
    private static func readable(_ path: String, what: String) throws(TLSError) {
        do { _ = Descriptor(try Posix.openat(AT_FDCWD, path, flags: O_RDONLY)) } catch {
            throw TLSError("\(what) \(path)", error.reason)
        }
    }
}
