/// Ferry's framing: a 4-byte unsigned big-endian length N, then N bytes of one UTF-8 JSON object.
///
/// Frames keep messages from running together on the stream. A frame whose message announces a body
/// (a file's bytes) is followed by exactly that many raw bytes, which are not framed.
public enum Frame {
    /// Bytes in the length prefix.
    public static let headerSize = 4
    /// The largest frame body a peer may send. Also the default cap a receiver enforces.
    public static let maximumLength = 65_536

    /// The length prefix followed by `payload`.
    public static func encode(_ payload: [UInt8]) -> [UInt8] {
        precondition(!payload.isEmpty && payload.count <= maximumLength, "frame payload out of range")
        let length = UInt32(payload.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize + payload.count)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(contentsOf: payload)
        return bytes
    }
}
