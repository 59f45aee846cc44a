internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    /// `count` random bytes from `RAND_bytes`; traps rather than ever returning weak randomness.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "SecureRandom.bytes count out of range")
        guard count > 0 else { return [] }
        var output = [UInt8](repeating: 0, count: count)
        let ok = output.withUnsafeMutableBufferPointer { buffer in
            RAND_bytes(buffer.baseAddress, Int32(count))
        }
        guard ok == 1 else { opensslFatal("RAND_bytes") }
        return output
    }

    /// A SCRAM nonce: 24 random bytes, base64 encoded (32 printable characters, no commas).
    public static func nonce() -> String {
        Base64.encode(bytes(24))
    }
}
