import COpenSSL
import FerryCrypto

/// A fresh P-256 key and a self-signed certificate over it, as PEM text: what ferryd makes on its
/// first start when no certificate is configured, the way sshd makes its host keys. Clients pin the
/// key's fingerprint, so the certificate's names and dates only matter to a CA-verifying client,
/// which such a certificate does not satisfy anyway.
public struct SelfSignedCertificate: Sendable {
    /// The certificate, PEM.
    public let certificatePEM: [UInt8]
    /// The private key, PEM (PKCS#8, unencrypted).
    public let privateKeyPEM: [UInt8]
    /// The fingerprint of the new key.
    public let fingerprint: KeyFingerprint

    /// Makes a new key and certificate, valid from an hour ago for 100 years, named `commonName`.
    public static func generate(commonName: String = "ferryd") throws(TLSError) -> SelfSignedCertificate {
        guard let key = ferry_generate_p256_key() else { throw TLSError.fromQueue("generating a key") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw TLSError.fromQueue("making a certificate") }
        defer { X509_free(certificate) }

        var serial = SecureRandom.bytes(8)
        serial[0] &= 0x7F  // positive
        let serialNumber = serial.reduce(0) { $0 << 8 | Int($1) }
        guard X509_set_version(certificate, 2) == 1,
              ASN1_INTEGER_set(X509_get_serialNumber(certificate), serialNumber) == 1,
              X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil,
              X509_time_adj_ex(X509_getm_notAfter(certificate), 36_500, 0, nil) != nil,
              X509_set_pubkey(certificate, key) == 1,
              let name = X509_get_subject_name(certificate),
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1,
              X509_set_issuer_name(certificate, name) == 1,
              X509_sign(certificate, key, EVP_sha256()) > 0
        else { throw TLSError.fromQueue("making a certificate") }

        let certificatePEM = try PEMText.write("writing the certificate") { PEM_write_bio_X509($0, certificate) }
        let keyPEM = try PEMText.write("writing the key") { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        guard let fingerprint = KeyFingerprint.of(publicKey: key) else { throw TLSError.fromQueue("encoding the key") }
        return SelfSignedCertificate(certificatePEM: certificatePEM, privateKeyPEM: keyPEM, fingerprint: fingerprint)
    }
}

/// PEM output through a memory BIO.
enum PEMText {
    /// What `body` writes into a fresh memory BIO (it returns 1 on success, as PEM_write_bio_* do).
    static func write(_ operation: String, _ body: (OpaquePointer) -> Int32) throws(TLSError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TLSError.fromQueue(operation) }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw TLSError.fromQueue(operation) }
        var data: UnsafeMutablePointer<CChar>?
        let length = ferry_BIO_mem_data(bio, &data)
        guard length > 0, let data else { throw TLSError(operation, "no output") }
        return UnsafeRawBufferPointer(start: data, count: length).map { $0 }
    }
}
