import FerryPosix
import Foundation

/// One JSON line per finished or failed transfer, appended to a file named in config.ini, in the
/// spirit of vsftpd's xferlog: time, address, user, command, path, bytes, duration, result and MD5.
///
/// A failed transfer's line says how it failed the way the wire does: `"result":"error"` with the
/// error `code` and its `message` (README.md, "config.ini", lists the fields).
public final class TransferLog: Sendable {
    /// One transfer's record; its JSON keys are the property names in snake case. Absent optionals
    /// are left out of the line.
    public struct Record: Encodable, Sendable {
        public var time: String
        public var address: String
        public var user: String
        public var command: String
        public var path: String
        /// Body bytes that moved: for a download, those written to the connection; for an upload, those
        /// received. Counted also when the transfer failed part way.
        public var bytes: UInt64
        public var durationMs: Int64
        /// "ok", or "error" (then `code` and `message` say which).
        public var result: String
        /// The error code a failed transfer was answered with (see ``TransferFailure``).
        public var code: String?
        /// The error's message, as the client was told it when it could be.
        public var message: String?
        public var md5: String?

        enum CodingKeys: String, CodingKey {
            case time, address, user, command, path, bytes, durationMs = "duration_ms", result, code, message, md5
        }
    }

    private let file: Descriptor

    /// Opens (creating if needed) `path` for appending.
    public init(path: String) throws(PosixError) {
        file = try File.openForAppending(path: path)
    }

    /// Appends one line. Each line is a single write to an O_APPEND file, so concurrent sessions
    /// never interleave within a line.
    public func append(_ record: Record) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(record) else { return }
        // Names come from clients: no C1 control or bidi override is written raw (see LogText).
        var line = Array(LogText.jsonEscaped(String(decoding: json, as: UTF8.self)).utf8)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { try? File.write(file, $0) }
    }

    /// The current time as ISO 8601 UTC with milliseconds.
    /// Formatted by swift-foundation's ISO8601FormatStyle: a new ISO8601DateFormatter per transfer
    /// loaded ICU's calendar data each time and was a third of ferryd's CPU when serving small files.
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
