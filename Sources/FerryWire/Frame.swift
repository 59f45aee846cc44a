/// Ferry's framing: a 4-byte unsigned big-endian length N, then N bytes of one UTF-8 JSON object.
///
/// Frames keep messages from running together on the stream. A frame whose message announces a body
/// (a file's bytes) is followed by exactly that many raw bytes, which are not framed.
public enum Frame {
    /// Bytes in the length prefix.
    public static let headerSize = 4
    /// The largest frame body a peer may send. Also the default cap a receiver enforces.
    public static let maximumLength = 65_536

    /// The length prefix followed by `payload`. A payload that is empty or over ``maximumLength`` cannot
    /// be framed: that is an error of the sender, thrown rather than trapped, since a payload may carry
    /// what a peer or the disk supplied.
    public static func encode(_ payload: [UInt8]) throws(UnframeableMessage) -> [UInt8] {
        guard !payload.isEmpty, payload.count <= maximumLength else {
            throw UnframeableMessage(length: payload.count)
        }
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

/// A message this side built is too large (or empty) for a frame, so it was not sent. The stream is
/// still in step; the sender decides what to do (ferryd ends that one session with `internal`).
public struct UnframeableMessage: Error, Equatable, Sendable, CustomStringConvertible {
    /// The payload's length in bytes.
    public let length: Int
    public init(length: Int) { self.length = length }
    public var description: String {
        length == 0 ? "a message could not be encoded as a frame"
            : "a message of \(length) bytes does not fit in a frame (1 to \(Frame.maximumLength) bytes)"
    }
}
