import COpenSSL

/// A TLS failure: what was being done, and OpenSSL's reason (or ours) in words.
public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being done: "TLS handshake", "certificate /etc/ferry/ferryd.crt", ...
    public let operation: String
    /// Why it failed, for one line on a terminal or in a log.
    public let reason: String

    public init(_ operation: String, _ reason: String) {
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "\(operation): \(reason)" }

    /// Takes this thread's OpenSSL error queue: the reason of the earliest error (the cause, where
    /// later ones add context), or `fallback` when the queue is empty. The queue is left empty.
    static func fromQueue(_ operation: String, fallback: String = "unknown TLS error") -> TLSError {
        let first = ERR_get_error()
        defer { ERR_clear_error() }
        guard first != 0 else { return TLSError(operation, fallback) }
        if let reason = ERR_reason_error_string(first) {
            return TLSError(operation, String(cString: reason))
        }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(first, &buffer, buffer.count)
        return TLSError(operation, String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
