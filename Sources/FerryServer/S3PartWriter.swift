import FerryS3
import FerryWire

/// Streams one object to the bucket part by part, so that memory stays at a few parts whatever the
/// file's size, and nothing is visible at the key until ``complete()``: a file of at most one part goes
/// up in one PUT at the end, a larger one as a multipart upload (begun when its first part is full) that
/// CompleteMultipartUpload turns into the object. Until then ``abort()`` drops every part sent.
///
/// Full parts go up through an ``S3Pipeline``, ``partsInFlight`` at once on connections of their own,
/// while the next one fills from the client; memory is `partsInFlight + 1` parts.
final class S3PartWriter {
    let bucket: S3Bucket
    let key: String
    /// Bytes per part: 8 MiB, or more for a file that would need over 10,000 parts (S3's limit), always
    /// whole chunks of the grid.
    let partSize: Int
    private let pipeline: S3Pipeline<String>
    /// The part being filled.
    private var buffer: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var uploadID: String?
    private var etags: [String] = []
    private var partsStarted = 0
    private var finished = false

    static let minimumPartSize = 2 * ChunkGrid.size
    static let maximumParts = 10_000
    /// Parts sent at once: enough to keep an object store busy on several cores (awscli keeps ten
    /// requests of 8 MiB going), few enough that an upload holds 40 MiB.
    static let partsInFlight = 4

    init(bucket: S3Bucket, key: String, fileSize: UInt64) {
        self.bucket = bucket
        self.key = key
        let chunks = (fileSize / UInt64(Self.maximumParts) + UInt64(ChunkGrid.size) - 1) / UInt64(ChunkGrid.size)
        partSize = max(Self.minimumPartSize, Int(chunks) * ChunkGrid.size)
        pipeline = S3Pipeline(like: bucket, width: Self.partsInFlight,
                              bufferSize: max(1, Int(min(UInt64(partSize), fileSize))))
        buffer = pipeline.buffer()
    }

    deinit {
        pipeline.drain()
        pipeline.recycle(buffer)
    }

    /// Adds the next bytes of the object, sending a part whenever one is full.
    func append(_ bytes: UnsafeRawBufferPointer) throws(S3Error) {
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, buffer.count - filled)
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + count)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
            filled += count
            offset += count
            if filled == buffer.count { try sendPart() }
        }
    }

    /// Starts sending the filled buffer (once a lane is free) and goes on in another one.
    private func sendPart() throws(S3Error) {
        if pipeline.isFull { try takeOldestPart() }
        if uploadID == nil { uploadID = try bucket.createMultipartUpload(key) }
        guard let uploadID else { return }
        let (key, number, length) = (key, partsStarted + 1, filled)
        try pipeline.start(buffer) { (lane, part) throws(S3Error) -> String in
            try lane.uploadPart(key, uploadID: uploadID, number: number, bytes: UnsafeRawBufferPointer(rebasing: part[..<length]))
        }
        partsStarted += 1
        buffer = pipeline.buffer()
        filled = 0
    }

    /// Waits for the oldest part in flight and keeps its ETag (parts are answered in order).
    private func takeOldestPart() throws(S3Error) {
        let (etag, part) = try pipeline.takeOldest()
        pipeline.recycle(part)
        etags.append(etag)
    }

    /// Makes the object appear with everything appended.
    func complete() throws(S3Error) {
        if let uploadID {
            if filled > 0 { try sendPart() }
            while pipeline.pending > 0 { try takeOldestPart() }
            try bucket.completeMultipartUpload(key, uploadID: uploadID, parts: etags)
        } else {
            try bucket.put(key, bytes: UnsafeRawBufferPointer(rebasing: buffer[..<filled]))
        }
        finished = true
    }

    /// Drops the parts sent, unless the object was completed; best effort (what fails here is found by
    /// the sweep of orphaned uploads).
    func abort() {
        guard !finished else { return }
        finished = true
        pipeline.drain()
        if let uploadID { try? bucket.abortMultipartUpload(key, uploadID: uploadID) }
    }
}
