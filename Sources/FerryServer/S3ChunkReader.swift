import FerryS3
import FerryWire

/// Reads chunks of one version of an object (ranged GETs, `If-Match` its ETag) a few ahead of the one
/// being sent, through an ``S3Pipeline``: while the session writes chunk `i` to the client, chunks
/// the next few are on their way from the store. Memory is `chunksAhead` chunks.
final class S3ChunkReader {
    let store: S3Store
    let key: String
    let object: S3Object
    /// Answers a chunk's index and the bytes that came.
    private let pipeline: S3Pipeline<(Int, Int)>
    private var indices: IndexingIterator<[Int]>
    /// The buffer last handed out, recycled at the next call.
    private var lent: UnsafeMutableRawBufferPointer?

    /// Requests in flight at once (one fewer while a chunk is being sent).
    static let chunksAhead = 4

    init(store: S3Store, path: SharePath, object: S3Object, indices: [Int]) {
        self.store = store
        key = store.key(path)
        self.object = object
        self.indices = indices.makeIterator()
        pipeline = S3Pipeline(like: store.bucket, width: Self.chunksAhead, bufferSize: ChunkGrid.size)
    }

    deinit {
        pipeline.drain()
        if let lent { pipeline.recycle(lent) }
    }

    /// The next chunk wanted and its bytes (valid until the next call), or nil after the last. A chunk
    /// shorter than the grid says means the object shrank: `fileChanged`, like any other version change.
    func next() throws(ErrorReply) -> (index: Int, bytes: UnsafeRawBufferPointer)? {
        if let lent { pipeline.recycle(lent) }
        lent = nil
        while !pipeline.isFull, let index = indices.next() {
            let offset = ChunkGrid.offset(of: index)
            let range = offset..<(offset + UInt64(ChunkGrid.length(of: index, fileSize: object.size)))
            let (key, etag) = (key, object.etag)
            try store.call { () throws(S3Error) in
                try pipeline.start(pipeline.buffer()) { (lane, buffer) throws(S3Error) -> (Int, Int) in
                    (index, try lane.get(key, range: range, etag: etag, into: buffer))
                }
            }
        }
        guard pipeline.pending > 0 else { return nil }
        let ((index, count), buffer) = try store.call { () throws(S3Error) in try pipeline.takeOldest() }
        lent = buffer
        guard count == ChunkGrid.length(of: index, fileSize: object.size) else {
            throw ErrorReply(.fileChanged, "the file shrank while it was being sent; try again")
        }
        return (index, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
    }
}
