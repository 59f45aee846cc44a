import FerryPosix
import Foundation

/// The shell's command history on disk: one line per command, oldest first, in
/// `$XDG_STATE_HOME/ferry/history` (default `~/.local/state/ferry/history`, the directory made with
/// mode 0700, the file 0600).
///
/// Several shells may run at once: every access holds an exclusive lock on the file (flock), each
/// command is appended with one write, and the file is trimmed in place (never replaced, so a lock
/// always guards the file that is read), to the newest ``limit`` lines whenever it grows past that.
public final class HistoryFile {
    /// How many commands are kept, in the file and in the editor.
    public static let defaultLimit = 1000

    /// The file; it need not exist yet.
    public let path: String
    public let limit: Int

    public init(path: String, limit: Int = HistoryFile.defaultLimit) {
        self.path = path
        self.limit = limit
    }

    /// `$XDG_STATE_HOME/ferry/history`, else `~/.local/state/ferry/history`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        XDGDirectory.state("history", environment: environment)
    }

    /// Whether a command typed after `previous` goes into the history: not an empty line, not one that
    /// starts with a space (to keep a command out, as bash's ignorespace), not the previous one again.
    public static func records(_ line: String, after previous: String?) -> Bool {
        !line.isEmpty && !line.hasPrefix(" ") && !line.hasPrefix("\t") && line != previous
    }

    /// The commands in the file, oldest first, at most ``limit`` (a longer file is trimmed now). A file
    /// that does not exist or cannot be read holds none.
    public func load() -> [String] {
        (try? locked(create: false) { file throws(PosixError) in try trim(file, lines: lines(of: file)) }) ?? []
    }

    /// Adds `command` at the end, in one write, making the directory and the file if needed; then
    /// trims the file if it holds more than ``limit`` lines. Failures are ignored: a history that
    /// cannot be written must not stop the shell.
    public func append(_ command: String) {
        _ = try? locked(create: true) { file throws(PosixError) in
            let size = try FileStatus.of(file).size
            var bytes = Array(command.utf8) + [UInt8(ascii: "\n")]
            if size > 0, try lastByte(of: file, size: size) != UInt8(ascii: "\n") {
                bytes.insert(UInt8(ascii: "\n"), at: 0) // a line cut short by a crash stays one line
            }
            try File.write(file, bytes, at: size)
            _ = try trim(file, lines: lines(of: file))
        }
    }

    /// Runs `body` on the open file while holding its lock.
    private func locked<T>(create: Bool, _ body: (Descriptor) throws(PosixError) -> T) throws(PosixError) -> T {
        if create, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try File.makeDirectories(path: String(path[..<slash]), mode: 0o700)
        }
        let file = try File.openForUpdate(path: path, create: create, mode: 0o600)
        try File.lock(file)
        return try body(file)
    }

    private func lastByte(of file: Descriptor, size: Int64) throws(PosixError) -> UInt8 {
        var byte: UInt8 = 0
        let result: Result<Int, PosixError> = withUnsafeMutableBytes(of: &byte) { buffer in
            Result { () throws(PosixError) in try File.read(file, into: buffer, at: size - 1) }
        }
        _ = try result.get()
        return byte
    }

    /// The file's lines, without their newlines; empty lines are skipped.
    private func lines(of file: Descriptor) throws(PosixError) -> [Substring] {
        let size = Int(try FileStatus.of(file).size)
        var bytes = [UInt8](repeating: 0, count: size)
        let result: Result<Int, PosixError> = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(PosixError) in try File.read(file, into: buffer, at: 0) }
        }
        let count = try result.get()
        return String(decoding: bytes[..<count], as: UTF8.self).split(separator: "\n")
    }

    /// Keeps the newest ``limit`` of `lines` in the file (rewritten in place only when there were more);
    /// returns the lines kept.
    private func trim(_ file: Descriptor, lines: [Substring]) throws(PosixError) -> [String] {
        let kept = lines.suffix(limit).map(String.init)
        if lines.count > limit {
            let bytes = Array(kept.map { $0 + "\n" }.joined().utf8)
            // Written first, then cut: a crash in between leaves old lines after the kept ones, not a gap.
            try File.write(file, bytes, at: 0)
            try File.truncate(file, length: Int64(bytes.count))
        }
        return kept
    }
}
