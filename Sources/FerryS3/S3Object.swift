/// An object as a listing or a HEAD describes it.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: UInt64
    /// The ETag without its quotes.
    public var etag: String
    /// Seconds since the epoch.
    public var lastModified: Int64

    public init(key: String, size: UInt64, etag: String, lastModified: Int64) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// One page of a ListObjectsV2 answer.
public struct S3ListPage: Sendable {
    public var objects: [S3Object]
    /// With a delimiter: the "directories", each a prefix ending in the delimiter.
    public var commonPrefixes: [String]
    /// The token for the next page, nil on the last.
    public var continuation: String?
}

/// A multipart upload that was begun and neither completed nor aborted.
public struct S3PendingUpload: Sendable {
    public var key: String
    public var uploadID: String
    /// When it was begun, seconds since the epoch.
    public var initiated: Int64
}

/// One part of a multipart upload, as ListParts describes it.
public struct S3Part: Sendable, Equatable {
    /// From 1.
    public var number: Int
    /// The ETag without its quotes.
    public var etag: String
    public var size: UInt64
}
