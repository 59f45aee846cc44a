/// A violation of the framing or message format by the peer.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A length prefix of zero.
    case emptyFrame
    /// A length prefix over the receiver's limit.
    case frameTooLarge(length: Int, limit: Int)
    /// A payload that is not a JSON object of a known message type with valid fields.
    case malformedMessage(String)
    /// The stream ended inside a frame.
    case closedInsideFrame
    /// The stream ended inside a body.
    case truncated(expected: UInt64, received: UInt64)

    public var description: String {
        switch self {
        case .emptyFrame: "frame of length 0"
        case .frameTooLarge(let length, let limit): "frame of \(length) bytes exceeds the limit of \(limit)"
        case .malformedMessage(let why): "malformed message: \(why)"
        case .closedInsideFrame: "connection closed in the middle of a frame"
        case .truncated(let expected, let received): "connection closed after \(received) of \(expected) bytes"
        }
    }
}
