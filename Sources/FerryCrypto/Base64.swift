internal import Foundation

/// Standard (RFC 4648 section 4, padded) base64, as SCRAM uses it.
enum Base64 {
    /// Encodes `bytes` with padding and no line breaks.
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Decodes strictly: nil for any character outside the alphabet, bad padding or length,
    /// or a non-canonical encoding (nonzero unused bits), so each value has one spelling.
    static func decode(_ string: some StringProtocol) -> [UInt8]? {
        let text = String(string)
        guard text.utf8.count % 4 == 0, let data = Data(base64Encoded: text) else { return nil }
        let bytes = [UInt8](data)
        guard encode(bytes) == text else { return nil }
        return bytes
    }
}
