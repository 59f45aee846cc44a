/// A request naming one path inside the user's root ("" or "." is the root itself).
public struct PathRequest: Codable, Equatable, Sendable {
    public var path: String
    public init(path: String) { self.path = path }
}

/// One directory entry as `ls` and `stat` report it.
public struct Entry: Codable, Equatable, Sendable {
    /// The kinds an entry can be; "other" covers FIFOs, sockets and devices, and any kind a newer
    /// server may add, so that an old client still reads the whole listing.
    public enum Kind: String, Codable, Sendable {
        case file, directory, symlink, other

        public init(from decoder: any Decoder) throws {
            self = Kind(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .other
        }
    }
    public var name: String
    public var kind: Kind
    /// Bytes, for files; 0 for the rest.
    public var size: UInt64
    /// Modification time in whole seconds since 1970-01-01 UTC.
    public var mtime: Int64
    /// The file's content hash (lowercase hex; see ``ChunkGrid``), only when the server already has it:
    /// listing never makes the server hash.
    public var contentHash: String?
    /// The file's MD5, under the same rule.
    public var md5: String?
    /// Permission bits (e.g. 0o644, 420), for files and directories; nil for other kinds, and from a
    /// server that does not send them.
    public var mode: UInt32?

    public init(name: String, kind: Kind, size: UInt64, mtime: Int64, contentHash: String? = nil, md5: String? = nil,
                mode: UInt32? = nil) {
        self.name = name
        self.kind = kind
        self.size = size
        self.mtime = mtime
        self.contentHash = contentHash
        self.md5 = md5
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey { case name, kind, size, mtime, contentHash = "content_hash", md5, mode }
}

/// Server → client: part of a directory listing. `more` is true on every part but the last.
public struct Listing: Codable, Equatable, Sendable {
    public var entries: [Entry]
    public var more: Bool
    /// True on the last part when the server stopped at its configured maximum of entries.
    public var truncated: Bool?
    public init(entries: [Entry], more: Bool, truncated: Bool? = nil) {
        self.entries = entries
        self.more = more
        self.truncated = truncated
    }
}

/// Server → client: the answer to `stat`.
public struct EntryReply: Codable, Equatable, Sendable {
    public var entry: Entry
    public init(entry: Entry) { self.entry = entry }
}

/// Client → server: create the directory `path` (feature `mkdir`); with `parents`, also every missing
/// directory on the way, and no error if it exists already (`mkdir -p`). Answered with its `entry`.
public struct MakeDirectory: Codable, Equatable, Sendable {
    public var path: String
    public var parents: Bool?
    public init(path: String, parents: Bool? = nil) {
        self.path = path
        self.parents = parents
    }
}
