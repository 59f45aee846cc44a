#if canImport(Glibc)
import Glibc
#endif
import FerryPosix

/// ferryd's key and certificate on disk: made on the first start when neither file exists, as sshd
/// makes its host keys, and checked for permissions that would let others read the key.
public enum ServerKeyFiles {
    /// Writes a fresh key (mode 0600) and self-signed certificate (0644) to these paths when neither
    /// exists, each atomically. Returns the new key's fingerprint, or nil when both were there already.
    /// One file without the other is an error: ferryd never silently replaces a key.
    public static func createIfMissing(certificate: String, privateKey: String) throws(TLSError) -> KeyFingerprint? {
        switch (exists(certificate), exists(privateKey)) {
        case (true, true):
            return nil
        case (false, false):
            let made = try SelfSignedCertificate.generate()
            do {
                try AtomicFile.write(made.privateKeyPEM, to: privateKey, mode: 0o600)
                try AtomicFile.write(made.certificatePEM, to: certificate, mode: 0o644)
            } catch {
                throw TLSError("writing \(privateKey) and \(certificate)", error.reason)
            }
            return made.fingerprint
        case (true, false):
            throw TLSError("private key \(privateKey)", "missing, while the certificate \(certificate) exists; restore the key, or remove both to make a new one")
        case (false, true):
            throw TLSError("certificate \(certificate)", "missing, while the private key \(privateKey) exists; restore the certificate, or remove both to make a new key")
        }
    }

    /// A warning to log when the key file can be read or written by its group or others, else nil.
    public static func permissionWarning(privateKey: String) -> String? {
        guard let file = try? File.openForReading(path: privateKey), let status = try? FileStatus.of(file) else { return nil }
        let loose = status.mode & 0o077
        guard loose != 0 else { return nil }
        return "private key \(privateKey) can be read by others (mode \(String(status.mode & 0o777, radix: 8))); chmod 600 it"
    }

    /// True unless the file is certainly absent (an unreadable one exists: loading it will say why).
    private static func exists(_ path: String) -> Bool {
        do {
            _ = try File.openForReading(path: path)
            return true
        } catch {
            return error.code != ENOENT
        }
    }
}
