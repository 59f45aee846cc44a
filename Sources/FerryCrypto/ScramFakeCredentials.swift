extension ScramServer {
    /// Deterministic per user name so repeated probes of an unknown name get the same salt:
    /// salt = first 16 bytes of HMAC-SHA256(secret, "salt:"+username); iterations = 4096;
    /// storedKey/serverKey = random-looking HMAC outputs of the secret, which no proof can match
    /// (that would need a SHA-256 preimage).
    ///
    /// `secret` should be at least 32 random bytes kept for the life of the server. Real
    /// users should get 16-byte salts and 4096 iterations too, or the two are distinguishable.
    public static func fakeCredentials(for username: String, secret: [UInt8]) -> ScramCredentials {
        let name = Array(username.utf8)
        let salt = HMAC.sha256(key: secret, message: Array("salt:".utf8) + name)
        return ScramCredentials(
            salt: Array(salt.prefix(16)),
            iterations: ScramCredentials.minimumIterations,
            storedKey: HMAC.sha256(key: secret, message: Array("stored-key:".utf8) + name),
            serverKey: HMAC.sha256(key: secret, message: Array("server-key:".utf8) + name))
    }
}
