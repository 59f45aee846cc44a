internal import COpenSSL

/// PBKDF2 (RFC 8018) key derivation over OpenSSL.
public enum PBKDF2 {
    /// PBKDF2-HMAC-SHA-256 (`PKCS5_PBKDF2_HMAC` with `EVP_sha256`); `iterations` and `length` must be positive.
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        precondition(iterations > 0 && iterations <= Int(Int32.max), "PBKDF2 iterations out of range")
        precondition(length > 0 && length <= Int(Int32.max), "PBKDF2 length out of range")
        precondition(password.count <= Int(Int32.max) && salt.count <= Int(Int32.max), "PBKDF2 input too long")
        var output = [UInt8](repeating: 0, count: length)
        let ok = withNonNullBytes(password) { passwordPtr, passwordCount in
            withNonNullBytes(salt) { saltPtr, saltCount in
                output.withUnsafeMutableBufferPointer { out in
                    UnsafeRawPointer(passwordPtr).withMemoryRebound(to: CChar.self, capacity: max(passwordCount, 1)) { pass in
                        PKCS5_PBKDF2_HMAC(
                            pass, Int32(passwordCount), saltPtr, Int32(saltCount),
                            Int32(iterations), EVP_sha256(), Int32(length), out.baseAddress)
                    }
                }
            }
        }
        guard ok == 1 else { opensslFatal("PKCS5_PBKDF2_HMAC") }
        return output
    }
}
