import FerryPosix
import FerryTLS
import Foundation

/// The keys of servers this user has trusted, as OpenSSH's known_hosts: one line per `host:port` with
/// the key's fingerprint, written when a first login over a bound channel succeeded, and compared on
/// every later connection. Lines starting with `#` and blank lines are ignored.
public struct KnownHosts: Sendable {
    /// The file; it need not exist yet.
    public let path: String

    public init(path: String) { self.path = path }

    /// `$XDG_CONFIG_HOME/ferry/known_hosts`, else `~/.config/ferry/known_hosts`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        XDGDirectory.config("known_hosts", environment: environment)
    }

    /// How a server is named in the file: `host:port`, with an IPv6 address in brackets.
    public static func name(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// A recorded key and the line it is on (counting from 1).
    public struct Entry: Equatable, Sendable {
        public let fingerprint: KeyFingerprint
        public let line: Int
    }

    /// The key recorded for `name`, if any. A file that does not exist records nothing.
    public func lookup(_ name: String) throws(ClientError) -> Entry? {
        for (index, fields) in try lines().enumerated() {
            guard fields.count >= 2, fields[0] == name, let fingerprint = KeyFingerprint(parsing: fields[1]) else { continue }
            return Entry(fingerprint: fingerprint, line: index + 1)
        }
        return nil
    }

    /// Adds a line for `name`, atomically (a reader sees the file before or after, never half of it);
    /// makes the directory (mode 0700) if needed.
    public func record(_ name: String, _ fingerprint: KeyFingerprint) throws(ClientError) {
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += "\(name) \(fingerprint)\n"
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError("cannot create \(directory) for known hosts: \(error.localizedDescription)")
        }
        do { try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644) } catch {
            throw ClientError("cannot write \(path): \(error.reason)")
        }
    }

    /// The file's lines split at white space, comment and blank lines kept as empty, so that indexes are
    /// line numbers.
    private func lines() throws(ClientError) -> [[String]] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            if !FileManager.default.fileExists(atPath: path) { return [] }
            throw ClientError("cannot read \(path): \(error.localizedDescription)")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("#") ? [] : line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
    }
}
