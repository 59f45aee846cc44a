import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire
import Foundation

/// The content hashes (and MD5s, when known) of local files this client has hashed, sent or received,
/// keyed by what changes when a file does: device, inode, size and modification time to the
/// nanosecond. It lets a second `get -r` or `put -r` of an unchanged tree skip every file without
/// reading one. Kept in `$XDG_CACHE_HOME/ferry/digests` (default `~/.cache/ferry/digests`), one line
/// per file, at most ``capacity`` lines (the oldest go first); a damaged line is ignored.
public final class LocalDigests {
    typealias Key = FileVersion

    /// What is known of one file.
    public struct Digests: Equatable, Sendable {
        public var contentHash: String
        public var md5: String?
    }

    public static let capacity = 200_000
    let path: String?
    private var entries: [Key: Digests] = [:]
    private var order: [Key] = []
    private var changed = false

    /// The cache at `path` (nil: in memory only, for tests), loaded now.
    public init(path: String?) {
        self.path = path
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 7 || fields.count == 6,
                  let device = UInt64(fields[0]), let inode = UInt64(fields[1]), let size = Int64(fields[2]),
                  let seconds = Int64(fields[3]), let nanoseconds = Int64(fields[4]), fields[5].utf8.count == 64 else { continue }
            let key = Key(device: device, inode: inode, size: size, seconds: seconds, nanoseconds: nanoseconds)
            if entries.updateValue(Digests(contentHash: String(fields[5]), md5: fields.count == 7 ? String(fields[6]) : nil), forKey: key) == nil {
                order.append(key)
            }
        }
    }

    /// `$XDG_CACHE_HOME/ferry/digests`, or `~/.cache/ferry/digests`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        XDGDirectory.cache("digests", environment: environment)
    }

    /// What is known of a file in this state.
    public func lookup(_ status: FileStatus) -> Digests? { entries[Key(status)] }

    /// Records the digests of a file in this state.
    public func store(_ digests: Digests, for status: FileStatus) {
        let key = Key(status)
        if entries.updateValue(digests, forKey: key) == nil { order.append(key) }
        changed = true
    }

    /// The content hash of the open `file`: from the cache, or computed on every core (with the MD5
    /// when `md5` is set) and then recorded.
    public func digests(of file: Descriptor, md5: Bool = false, progress: (UInt64) throws -> Void = { _ in }) throws -> Digests {
        let status = try FileStatus.of(file)
        if let known = lookup(status), known.md5 != nil || !md5 { return known }
        let result = try FileHasher.hash(file, size: UInt64(max(status.size, 0)), md5: md5, progress: progress)
        let digests = Digests(contentHash: ContentHash.of(result.digests).hexString, md5: result.md5?.hexString)
        if (try? FileStatus.of(file)) == status { store(digests, for: status) }
        return digests
    }

    /// The content hash of the regular file `name` in `directory` when its size is `size`: from the
    /// cache after one stat, or by reading it; nil when it is not a regular file of that size.
    public func contentHash(of name: String, in directory: Descriptor, size: UInt64) -> String? {
        guard let status = try? FileStatus.of(name, in: directory), status.kind == .file, UInt64(max(status.size, 0)) == size else {
            return nil
        }
        if let known = lookup(status) { return known.contentHash }
        guard let file = try? File.openForReading(name, in: directory) else { return nil }
        return (try? digests(of: file))?.contentHash
    }

    /// Writes the cache back if anything changed (atomically; a failure only costs a later re-hash).
    public func save() {
        guard changed, let path else { return }
        changed = false
        if order.count > Self.capacity {
            for key in order.prefix(order.count - Self.capacity) { entries[key] = nil }
            order.removeFirst(order.count - Self.capacity)
        }
        var text = ""
        text.reserveCapacity(order.count * 120)
        for key in order {
            guard let digests = entries[key] else { continue }
            text += "\(key.device) \(key.inode) \(key.size) \(key.seconds) \(key.nanoseconds) \(digests.contentHash)"
            text += (digests.md5.map { " " + $0 } ?? "") + "\n"
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try? AtomicFile.write(Array(text.utf8), to: path, mode: 0o600)
    }
}
