import FerryPosix
import Foundation

/// One JSON line per finished or failed transfer, appended to a file named in config.ini, in the
/// spirit of vsftpd's xferlog: time, address, user, command, path, bytes, duration, result and MD5.
public final class TransferLog: Sendable {
    /// One transfer's record; its JSON keys are the property names in snake case.
    public struct Record: Encodable, Sendable {
        public var time: String
        public var address: String
        public var user: String
        public var command: String
        public var path: String
        public var bytes: UInt64
        public var durationMs: Int64
        /// "ok", or the error code the transfer failed with.
        public var result: String
        public var md5: String?

        enum CodingKeys: String, CodingKey {
            case time, address, user, command, path, bytes, durationMs = "duration_ms", result, md5
        }
    }

    private let file: Descriptor

    /// Opens (creating if needed) `path` for appending.
    public init(path: String) throws {
        do {
            file = try File.openForAppending(path: path)
        } catch {
            throw ServerError("cannot open transfer log \(path): \(error.reason)")
        }
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
