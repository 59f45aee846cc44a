internal import COpenSSL

/// An OpenSSL failure: the operation that failed and every entry of OpenSSL's
/// (thread-local) error queue at that moment, oldest first.
///
/// FerryCrypto's public functions never throw this; they trap with its
/// description, because each failure it describes means libcrypto itself is broken.
struct CryptoError: Error, CustomStringConvertible, Sendable {
    /// The OpenSSL function (or Ferry operation) that reported the failure.
    let operation: String
    /// The drained error queue, one `ERR_error_string_n` line per entry.
    let queue: [String]

    /// Builds an error for `operation`, draining OpenSSL's error queue completely
    /// so that stale entries cannot be attributed to a later failure.
    static func drainingQueue(_ operation: String) -> CryptoError {
        var entries: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            buffer.withUnsafeMutableBufferPointer { ptr in
                ERR_error_string_n(code, ptr.baseAddress, ptr.count)
            }
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            entries.append(String(decoding: bytes, as: UTF8.self))
        }
        return CryptoError(operation: operation, queue: entries)
    }

    var description: String {
        if queue.isEmpty {
            return "\(operation) failed (OpenSSL error queue empty)"
        }
        return "\(operation) failed: " + queue.joined(separator: "; ")
    }
}

/// Traps with the drained OpenSSL error queue; for failures that leave no safe way on.
func opensslFatal(_ operation: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(CryptoError.drainingQueue(operation).description, file: file, line: line)
}
