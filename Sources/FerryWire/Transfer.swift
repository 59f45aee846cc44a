/// Server → client: a file follows. Exactly `size` raw bytes come right after this frame.
public struct FileHeader: Codable, Equatable, Sendable {
    /// The file's name (last path component).
    public var name: String
    public var size: UInt64
    /// Lowercase hex MD5 of the whole body.
    public var md5: String
    /// Modification time in whole seconds since the epoch.
    public var mtime: Int64
    public init(name: String, size: UInt64, md5: String, mtime: Int64) {
        self.name = name
        self.size = size
        self.md5 = md5
        self.mtime = mtime
    }
}

/// Server → client: the server is still hashing the requested file before it can send the `file`
/// header. Sent about once a second while that lasts, so the client knows the server is alive and can
/// show progress; zero or more may precede `file`.
public struct Preparing: Codable, Equatable, Sendable {
    /// Bytes hashed so far.
    public var done: UInt64
    /// The file's size.
    public var total: UInt64
    public init(done: UInt64, total: UInt64) {
        self.done = done
        self.total = total
    }
}

/// Client → server: upload `size` bytes to `path`, whose MD5 is `md5`. The body follows only after `ready`.
public struct PutRequest: Codable, Equatable, Sendable {
    public var path: String
    public var size: UInt64
    public var md5: String
    /// The modification time the stored file is to have (seconds since the epoch); honored by a server
    /// that offers `manage`, and sent only to one. Absent: the time of the upload.
    public var mtime: Int64?
    public init(path: String, size: UInt64, md5: String, mtime: Int64? = nil) {
        self.path = path
        self.size = size
        self.md5 = md5
        self.mtime = mtime
    }
}

/// Server → client: the upload was verified, synced and renamed into place.
public struct Stored: Codable, Equatable, Sendable {
    public var path: String
    public var size: UInt64
    /// Always present after `put`; after `upload` only when the client's `commit` carried one.
    public var md5: String?
    /// After `upload`: the content hash the file was verified against.
    public var contentHash: String?
    public init(path: String, size: UInt64, md5: String?, contentHash: String? = nil) {
        self.path = path
        self.size = size
        self.md5 = md5
        self.contentHash = contentHash
    }
    enum CodingKeys: String, CodingKey { case path, size, md5, contentHash = "content_hash" }
}
