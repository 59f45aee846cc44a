import FerryPosix
import FerryTLS
import FerryTransport
import FerryWire

/// How a transfer failed, in the wire's words: the error code and message the client was answered
/// with, or, when the connection could no longer carry an answer, would have been. For the transfer
/// log.
struct TransferFailure: Equatable {
    let code: String
    let message: String

    /// The one code that is never on the wire: the connection closed or was reset before the transfer
    /// ended, so no `error` frame could say anything.
    static let disconnected = "disconnected"

    init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: any Error) {
        switch error {
        case let reply as ErrorReply:
            self.init(code: reply.code.rawValue, message: reply.message)
        case let error as TimeoutError:
            self.init(code: ErrorCode.timeout.rawValue, message: "\(error)")
        case WireError.truncated, WireError.closedInsideFrame, is ChannelClosed:
            self.init(code: Self.disconnected, message: "\(error)")
        case let error as WireError:
            self.init(code: error.code.rawValue, message: error.description)
        case let error as PosixError where error.isConnectionLost:
            self.init(code: Self.disconnected, message: "\(error.function): \(error.reason)")
        case let error as PosixError:
            let reply = ErrorReply(posix: error)
            self.init(code: reply.code.rawValue, message: reply.message)
        case let error as FileShrank:
            self.init(code: ErrorCode.fileChanged.rawValue, message: error.description)
        case let error as TLSError:
            // Past the handshake, a TLS failure is a broken connection: nothing more can be said on it.
            self.init(code: Self.disconnected, message: error.description)
        default:
            self.init(code: ErrorCode.internal.rawValue, message: "\(error)")
        }
    }
}
