/// Client → server: remove `path` (feature `manage`): one file, symlink or special file; with
/// `recursive`, also a directory and everything below it, never following a symlink. Answered with
/// ``Removed``.
public struct RemoveRequest: Codable, Equatable, Sendable {
    public var path: String
    public var recursive: Bool?
    public init(path: String, recursive: Bool? = nil) {
        self.path = path
        self.recursive = recursive
    }
}

/// Client → server: rename `from` to `to` (feature `manage`), atomically; an existing `to` is replaced
/// only with `replace`. Answered with the `entry` of the new name.
public struct RenameRequest: Codable, Equatable, Sendable {
    public var from: String
    public var to: String
    public var replace: Bool?
    public init(from: String, to: String, replace: Bool? = nil) {
        self.from = from
        self.to = to
        self.replace = replace
    }
}

/// Server → client: what an `rm` or `rmdir` removed. Counts only what a client can see: the hidden
/// files of uploads that went with a directory are not among them.
public struct Removed: Codable, Equatable, Sendable {
    /// Files, symlinks and special files removed.
    public var files: UInt64
    /// Directories removed, the named one included.
    public var directories: UInt64
    /// The sizes of the regular files removed, added up.
    public var bytes: UInt64
    public init(files: UInt64, directories: UInt64, bytes: UInt64) {
        self.files = files
        self.directories = directories
        self.bytes = bytes
    }
}

/// Server → client: the answer to `df` (feature `manage`), in bytes.
public struct Usage: Codable, Equatable, Sendable {
    /// What counts against the user's quota under their root: regular files, and the partials of
    /// interrupted uploads at their full size.
    public var quotaUsed: UInt64
    /// The user's quota; nil when the user has none.
    public var quota: UInt64?
    /// Free for unprivileged users on the file system holding the user's root.
    public var diskFree: UInt64
    /// The size of that file system.
    public var diskTotal: UInt64
    public init(quotaUsed: UInt64, quota: UInt64?, diskFree: UInt64, diskTotal: UInt64) {
        self.quotaUsed = quotaUsed
        self.quota = quota
        self.diskFree = diskFree
        self.diskTotal = diskTotal
    }
    enum CodingKeys: String, CodingKey { case quotaUsed = "quota_used", quota, diskFree = "disk_free", diskTotal = "disk_total" }
}
