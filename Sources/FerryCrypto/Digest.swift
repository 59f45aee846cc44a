internal import COpenSSL

/// A message digest algorithm available through OpenSSL's EVP interface.
public enum DigestAlgorithm: Sendable {
    /// MD5 (RFC 1321): for content checksums only, never for security.
    case md5
    /// SHA-256 (FIPS 180-2).
    case sha256

    /// The OpenSSL `EVP_MD` implementing this algorithm.
    var evpMD: OpaquePointer {
        let md: OpaquePointer?
        switch self {
        case .md5: md = EVP_md5()
        case .sha256: md = EVP_sha256()
        }
        guard let md else { opensslFatal("EVP_MD lookup for \(self)") }
        return md
    }
}

/// A streaming digest over OpenSSL EVP (`EVP_DigestInit_ex` / `Update` / `Final_ex`).
///
/// An instance has a single owner: it may be handed from one thread or task to
/// another (hence `@unchecked Sendable`), but it must never be used from two
/// threads at the same time.
public final class Digest {
    private let context: OpaquePointer  // EVP_MD_CTX *
    private var finalized = false

    /// Starts a new digest; traps only if OpenSSL cannot create or initialise a context.
    public init(_ algorithm: DigestAlgorithm) {
        guard let context = EVP_MD_CTX_new() else { opensslFatal("EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex(context, algorithm.evpMD, nil) == 1 else {
            EVP_MD_CTX_free(context)
            opensslFatal("EVP_DigestInit_ex")
        }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Feeds `bytes` into the digest; an empty buffer (even with a nil base address) is a no-op.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finalized, "Digest.update called after finalize()")
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard EVP_DigestUpdate(context, base, bytes.count) == 1 else {
            opensslFatal("EVP_DigestUpdate")
        }
    }

    /// Feeds `bytes` into the digest.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Finishes the digest and returns it; the instance cannot be updated or finalized again.
    public func finalize() -> [UInt8] {
        precondition(!finalized, "Digest.finalize called twice")
        finalized = true
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = output.withUnsafeMutableBufferPointer { buffer in
            EVP_DigestFinal_ex(context, buffer.baseAddress, &length)
        }
        guard ok == 1 else { opensslFatal("EVP_DigestFinal_ex") }
        return Array(output.prefix(Int(length)))
    }

    /// Digests `bytes` in one call.
    public static func hash(_ algorithm: DigestAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        let digest = Digest(algorithm)
        digest.update(bytes)
        return digest.finalize()
    }
}

/// `Digest` is moved between threads (e.g. from a reader to a writer task) but is
/// never used by two threads at once; callers guarantee that exclusive ownership.
extension Digest: @unchecked Sendable {}
