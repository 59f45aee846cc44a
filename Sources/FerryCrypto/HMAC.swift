internal import COpenSSL

/// One-shot HMAC (RFC 2104) over OpenSSL.
public enum HMAC {
    /// HMAC-SHA-256 of `message` under `key` (any key length; long keys are hashed first).
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        precondition(key.count <= Int(Int32.max), "HMAC key too long")
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = withNonNullBytes(key) { keyPtr, keyCount in
            withNonNullBytes(message) { messagePtr, messageCount in
                output.withUnsafeMutableBufferPointer { out in
                    // Module-qualified: inside FerryCrypto, plain `HMAC` is this enum.
                    COpenSSL.HMAC(
                        EVP_sha256(), keyPtr, Int32(keyCount),
                        messagePtr, messageCount, out.baseAddress, &length)
                }
            }
        }
        guard result != nil else { opensslFatal("HMAC") }
        return Array(output.prefix(Int(length)))
    }
}
