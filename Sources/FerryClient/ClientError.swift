import FerryWire

/// Why a client operation failed, worded for one line on the user's terminal.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    /// The server's error code when the server refused; nil for local and connection failures.
    public let code: ErrorCode?
    public let message: String

    public init(_ message: String, code: ErrorCode? = nil) {
        self.message = message
        self.code = code
    }

    /// A server's `error` reply.
    public init(_ reply: ErrorReply) {
        self.init(reply.message, code: reply.code)
    }

    public var description: String { message }
}
