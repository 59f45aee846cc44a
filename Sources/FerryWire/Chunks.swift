/// The fixed grid every file is cut on for chunk-verified transfers: chunk `i` covers bytes
/// `i * size ..< min((i + 1) * size, fileSize)`. Only the last chunk may be shorter; an empty file has
/// no chunks.
public enum ChunkGrid {
    /// 4 MiB, the same for every file and every server.
    public static let size = 4 << 20

    /// How many chunks a file of `fileSize` bytes has.
    public static func count(for fileSize: UInt64) -> Int {
        Int((fileSize + UInt64(size) - 1) / UInt64(size))
    }

    /// The byte offset where chunk `index` starts.
    public static func offset(of index: Int) -> UInt64 { UInt64(index) * UInt64(size) }

    /// The bytes chunks `indices` of a file of `fileSize` bytes hold together.
    public static func bytes<S: Sequence>(of indices: S, fileSize: UInt64) -> UInt64 where S.Element == Int {
        indices.reduce(0) { $0 + UInt64(length(of: $1, fileSize: fileSize)) }
    }

    /// The length of chunk `index` of a file of `fileSize` bytes (0 past the end).
    public static func length(of index: Int, fileSize: UInt64) -> Int {
        let start = offset(of: index)
        guard start < fileSize else { return 0 }
        return Int(min(UInt64(size), fileSize - start))
    }
}

/// A run of consecutive chunk indices, written `[first, count]` on the wire.
public struct ChunkRange: Codable, Equatable, Sendable {
    public var first: Int
    public var count: Int
    public init(first: Int, count: Int) {
        self.first = first
        self.count = count
    }

    public var indices: Range<Int> { first..<(first + count) }

    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        first = try container.decode(Int.self)
        count = try container.decode(Int.self)
        guard container.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a range is [first, count]")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(first)
        try container.encode(count)
    }

    /// "3, 7-9" for chunk indices, in messages: at most 20 runs, then "…".
    public static func describe(_ indices: [Int]) -> String {
        let ranges = ranges(of: indices)
        return ranges.prefix(20).map { $0.count == 1 ? "\($0.first)" : "\($0.first)-\($0.first + $0.count - 1)" }
            .joined(separator: ", ") + (ranges.count > 20 ? ", …" : "")
    }

    /// Sorted indices folded into the fewest ranges.
    public static func ranges<S: Sequence>(of indices: S) -> [ChunkRange] where S.Element == Int {
        var ranges: [ChunkRange] = []
        for index in indices.sorted() {
            if let last = ranges.last, last.first + last.count == index {
                ranges[ranges.count - 1].count += 1
            } else if ranges.last.map({ index >= $0.first + $0.count }) ?? true {
                ranges.append(ChunkRange(first: index, count: 1))
            }
        }
        return ranges
    }
}

/// Client → server: the manifest of a file and any set of its chunks (feature `chunks`).
public struct FetchRequest: Codable, Equatable, Sendable {
    public var path: String
    /// The chunks wanted, ascending and not overlapping; nil for all of them, empty for none.
    public var chunks: [ChunkRange]?
    /// The content hash the client's copy came from: if the file's is different now, the server answers
    /// `file_changed` instead of sending chunks.
    public var expect: String?
    /// Whether to send the manifest first (default true).
    public var manifest: Bool?
    /// Whether the manifest must carry the MD5, computing it if the server has not yet (default false).
    public var md5: Bool?

    public init(path: String, chunks: [ChunkRange]? = nil, expect: String? = nil, manifest: Bool? = nil, md5: Bool? = nil) {
        self.path = path
        self.chunks = chunks
        self.expect = expect
        self.manifest = manifest
        self.md5 = md5
    }
}

/// Server → client: one page of a file's manifest. The chunk digests come in pages of at most
/// ``maximumDigests``, in order; every page repeats the file's fields.
public struct ManifestPage: Codable, Equatable, Sendable {
    public static let maximumDigests = 512
    public var name: String
    public var size: UInt64
    public var mtime: Int64
    public var chunkSize: Int
    public var chunkCount: Int
    /// Lowercase hex SHA-256 of the concatenated (binary) chunk digests.
    public var contentHash: String
    /// Lowercase hex MD5 of the whole file, when the server has it.
    public var md5: String?
    /// The index of the first digest on this page.
    public var first: Int
    /// Lowercase hex SHA-256 of each chunk from `first` on.
    public var chunks: [String]
    public var more: Bool

    public init(name: String, size: UInt64, mtime: Int64, chunkSize: Int = ChunkGrid.size, chunkCount: Int,
                contentHash: String, md5: String?, first: Int, chunks: [String], more: Bool) {
        self.name = name
        self.size = size
        self.mtime = mtime
        self.chunkSize = chunkSize
        self.chunkCount = chunkCount
        self.contentHash = contentHash
        self.md5 = md5
        self.first = first
        self.chunks = chunks
        self.more = more
    }

    enum CodingKeys: String, CodingKey {
        case name, size, mtime, chunkSize = "chunk_size", chunkCount = "chunk_count"
        case contentHash = "content_hash", md5, first, chunks, more
    }
}

/// Either direction: chunk `index` follows, exactly `size` raw bytes whose SHA-256 is `sha256`.
public struct ChunkHeader: Codable, Equatable, Sendable {
    public var index: Int
    public var size: Int
    public var sha256: String
    public init(index: Int, size: Int, sha256: String) {
        self.index = index
        self.size = size
        self.sha256 = sha256
    }
}

/// Client → server: begin or resume an upload of `size` bytes to `path` (feature `chunks`).
public struct UploadRequest: Codable, Equatable, Sendable {
    public var path: String
    public var size: UInt64
    /// The modification time the stored file is to have (seconds since the epoch); honored by a server
    /// that offers `manage`, and sent only to one. Absent: the time its last chunk was written.
    public var mtime: Int64?
    /// True: the `commit` will carry the file's MD5. A server that must see every byte to check an MD5
    /// (one over object storage) then keeps it as the chunks land. Servers that predate it ignore it.
    public var md5: Bool?
    public init(path: String, size: UInt64, mtime: Int64? = nil, md5: Bool? = nil) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.md5 = md5
    }
}

/// One chunk the server already holds, verified, for an upload being resumed.
public struct HeldChunk: Codable, Equatable, Sendable {
    public var index: Int
    public var sha256: String
    public init(index: Int, sha256: String) {
        self.index = index
        self.sha256 = sha256
    }
}

/// Server → client: the upload may go ahead; these chunks are already on the server from an earlier
/// attempt. Paged like a manifest: at most ``maximumHeld`` per page, `more` on all but the last.
public struct PartialPage: Codable, Equatable, Sendable {
    public static let maximumHeld = 512
    public var chunkSize: Int
    public var chunkCount: Int
    public var held: [HeldChunk]
    public var more: Bool
    public init(chunkSize: Int = ChunkGrid.size, chunkCount: Int, held: [HeldChunk], more: Bool) {
        self.chunkSize = chunkSize
        self.chunkCount = chunkCount
        self.held = held
        self.more = more
    }
    enum CodingKeys: String, CodingKey { case chunkSize = "chunk_size", chunkCount = "chunk_count", held, more }
}

/// Client → server: every chunk has been sent; store the file if its content hash (and MD5, when
/// given) match.
public struct CommitRequest: Codable, Equatable, Sendable {
    public var contentHash: String
    public var md5: String?
    /// The client sends nothing more for this upload (it pipelines the next request): when chunks are
    /// missing, the server ends the upload with `checksum_mismatch` instead of answering `incomplete`,
    /// and keeps the verified chunks for a resume.
    public var last: Bool?
    public init(contentHash: String, md5: String? = nil, last: Bool? = nil) {
        self.contentHash = contentHash
        self.md5 = md5
        self.last = last
    }
    enum CodingKeys: String, CodingKey { case contentHash = "content_hash", md5, last }
}

/// Server → client: the commit cannot happen yet; these chunks are missing or failed their digest.
/// The client sends them (again) and commits again.
public struct Incomplete: Codable, Equatable, Sendable {
    public var chunks: [ChunkRange]
    /// The chunks among them that arrived but did not match their digest.
    public var mismatched: [ChunkRange]
    public init(chunks: [ChunkRange], mismatched: [ChunkRange]) {
        self.chunks = chunks
        self.mismatched = mismatched
    }
}
