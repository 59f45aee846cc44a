internal import COpenSSL

/// Compares two byte strings without a data-dependent early exit (CRYPTO_memcmp).
///
/// Only the lengths, which are public (digest sizes), are compared in variable time.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return withNonNullBytes(a) { pa, count in
        withNonNullBytes(b) { pb, _ in
            CRYPTO_memcmp(pa, pb, count) == 0
        }
    }
}
