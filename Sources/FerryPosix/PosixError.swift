#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: the errno it set and the name of the call, described with strerror.
public struct PosixError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The errno value the call left behind.
    public let code: Int32
    /// The name of the failing call, e.g. "openat".
    public let function: String

    public init(code: Int32, function: String) {
        self.code = code
        self.function = function
    }

    /// strerror's text for the code, without the function name: what a user is shown.
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(function): \(reason) (errno \(code))" }

    public static func == (lhs: PosixError, rhs: PosixError) -> Bool { lhs.code == rhs.code }

    /// True for what a socket call says when the peer went away: it reset the connection (it closed
    /// with data unread, or was killed), or closed its end before a write.
    public var isConnectionLost: Bool {
        [ECONNRESET, EPIPE, ENOTCONN, ECONNABORTED].contains(code)
    }
}

/// A socket operation that did not complete within its time limit.
public struct TimeoutError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being waited for: "read" or "write".
    public let operation: String
    public init(operation: String) { self.operation = operation }
    public var description: String { "timed out waiting to \(operation)" }
}
