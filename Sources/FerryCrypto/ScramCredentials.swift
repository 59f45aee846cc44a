/// What the server stores for a user: never the password.
public struct ScramCredentials: Sendable, Equatable {
    /// The PBKDF2 salt.
    public var salt: [UInt8]
    /// The PBKDF2 iteration count.
    public var iterations: Int
    /// SHA-256(ClientKey): verifies client proofs.
    public var storedKey: [UInt8]
    /// HMAC(SaltedPassword, "Server Key"): signs server-final messages.
    public var serverKey: [UInt8]

    /// Wraps already-derived credentials (e.g. loaded from the user database).
    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations);
    /// ClientKey = HMAC(SaltedPassword, "Client Key"); StoredKey = SHA256(ClientKey);
    /// ServerKey = HMAC(SaltedPassword, "Server Key").
    ///
    /// The password is used as its UTF-8 bytes; SASLprep is not applied.
    public static func derive(password: String, salt: [UInt8], iterations: Int) -> ScramCredentials {
        let keys = ScramKeys(password: password, salt: salt, iterations: iterations)
        return ScramCredentials(
            salt: salt, iterations: iterations,
            storedKey: Digest.hash(.sha256, keys.clientKey), serverKey: keys.serverKey)
    }

    /// The lowest iteration count a Ferry client accepts (RFC 7677 recommends at least 4096).
    public static let minimumIterations = 4096
}

/// The password-derived keys both sides compute from SaltedPassword.
struct ScramKeys {
    /// HMAC(SaltedPassword, "Client Key").
    let clientKey: [UInt8]
    /// HMAC(SaltedPassword, "Server Key").
    let serverKey: [UInt8]

    /// Runs PBKDF2 once and derives both keys.
    init(password: String, salt: [UInt8], iterations: Int) {
        let salted = PBKDF2.sha256(
            password: Array(password.utf8), salt: salt, iterations: iterations, length: 32)
        clientKey = HMAC.sha256(key: salted, message: Array("Client Key".utf8))
        serverKey = HMAC.sha256(key: salted, message: Array("Server Key".utf8))
    }
}
