/// Percent-encoding of keys and query values for request URLs, as SigV4's canonical request has them:
/// every byte but the unreserved characters `A-Z a-z 0-9 - _ . ~` is encoded; in a key, `/` is kept.
enum S3KeyEncoding {
    /// A key (or bucket name) for the URL's path.
    static func encode(_ key: String) -> String { encode(key, keepSlash: true) }

    /// A query name or value.
    static func component(_ text: String) -> String { encode(text, keepSlash: false) }

    private static func encode(_ text: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                bytes.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
