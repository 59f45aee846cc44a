import FerryWire

/// Everything under a remote directory, found by listing it level by level: the plan of a recursive get.
public struct RemoteTree: Sendable {
    /// A regular file, by its path relative to the tree's root.
    public struct File: Sendable, Equatable {
        public let relativePath: String
        public let size: UInt64
        /// The content hash, when the server's listing carried it.
        public var contentHash: String? = nil
        /// The permission bits the server's listing gave, if any (for `get -r -p`).
        public var mode: UInt32? = nil
    }

    /// Subdirectories, relative to the root, parents before children.
    public private(set) var directories: [String] = []
    /// Regular files, grouped by directory in the order of `directories` (the root's own first).
    public private(set) var files: [File] = []
    /// Symlinks and special files, which a recursive get leaves out (a symlink may loop or lead
    /// anywhere inside the share; following it would copy the same files twice).
    public private(set) var skipped: [String] = []
    /// Directories the server could not list whole (its `max_list_entries`): what it listed is there.
    public private(set) var truncated: [String] = []
    /// Entries whose names cannot be a local file name ("", ".", "..", or with "/" or NUL in them):
    /// no honest server lists them, and a client must never write through them.
    public private(set) var unusableNames: [(directory: String, name: String)] = []

    public var totalBytes: UInt64 { files.reduce(0) { $0 + $1.size } }

    /// Lists `remote` (a wire path) and every directory below it.
    static func walk(_ remote: String, with session: ClientSession) throws(ClientError) -> RemoteTree {
        var tree = RemoteTree()
        var queue = [""]
        var next = 0
        while next < queue.count {
            let relative = queue[next]
            next += 1
            let listing = try session.list(join(remote, relative))
            if listing.truncated { tree.truncated.append(relative) }
            for entry in listing.entries.sorted(by: { $0.name < $1.name }) {
                guard LocalTree.isPlainName(entry.name) else {
                    tree.unusableNames.append((relative, entry.name))
                    continue
                }
                let path = join(relative, entry.name)
                switch entry.kind {
                case .file: tree.files.append(File(relativePath: path, size: entry.size, contentHash: entry.contentHash, mode: entry.mode))
                case .directory:
                    tree.directories.append(path)
                    queue.append(path)
                case .symlink, .other: tree.skipped.append(path)
                }
            }
        }
        return tree
    }

    /// `base/name`, where an empty side adds nothing.
    static func join(_ base: String, _ name: String) -> String {
        if base.isEmpty { return name }
        if name.isEmpty { return base }
        return base.hasSuffix("/") ? base + name : base + "/" + name
    }
}
