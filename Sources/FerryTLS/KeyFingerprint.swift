import COpenSSL
import FerryCrypto
import Foundation

/// A server's key as people compare it: `SHA256:` and the unpadded base64 of the SHA-256 of the
/// certificate's SubjectPublicKeyInfo, the form `ssh-keygen -l` prints. It names the key, not the
/// certificate, so a certificate renewed over the same key keeps its fingerprint.
public struct KeyFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// "SHA256:" followed by 43 base64 characters.
    public let text: String

    public var description: String { text }

    /// The fingerprint of a DER-encoded SubjectPublicKeyInfo.
    public init(subjectPublicKeyInfo der: [UInt8]) {
        let digest = Digest.hash(.sha256, der)
        text = "SHA256:" + Data(digest).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// Parses "SHA256:" + 43 base64 characters (the padding may be given); nil for anything else.
    public init?(parsing text: String) {
        guard text.hasPrefix("SHA256:") else { return nil }
        let body = text.dropFirst("SHA256:".count).replacingOccurrences(of: "=", with: "")
        guard body.count == 43, let bytes = Data(base64Encoded: body + "="), bytes.count == 32 else { return nil }
        self.text = "SHA256:" + body
    }

    /// The fingerprint of `key`'s public half.
    static func of(publicKey key: OpaquePointer) -> KeyFingerprint? {
        let length = i2d_PUBKEY(key, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_PUBKEY(key, &cursor)
        }
        guard written == length else { return nil }
        return KeyFingerprint(subjectPublicKeyInfo: der)
    }

    /// The fingerprint of the key in `certificate` (an X509*).
    static func of(certificate: OpaquePointer) -> KeyFingerprint? {
        guard let key = X509_get0_pubkey(certificate) else { return nil }
        return of(publicKey: key)
    }
}
