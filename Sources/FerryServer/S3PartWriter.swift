import FerryS3
import FerryWire

/// Streams one object to the bucket part by part, so that memory stays at one part whatever the file's
/// size, and nothing is visible at the key until ``complete()``: a file of at most one part goes up in
/// one PUT at the end, a larger one as a multipart upload (begun when its first part is full) that
/// CompleteMultipartUpload turns into the object. Until then ``abort()`` drops every part sent.
final class S3PartWriter {
    let bucket: S3Bucket
    let key: String
    /// Bytes per part: 16 MiB, or more for a file that would need over 10,000 parts (S3's limit), always
    /// whole chunks of the grid.
    let partSize: Int
    private let buffer: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var uploadID: String?
    private var etags: [String] = []
    private var finished = false

    static let minimumPartSize = 16 << 20
    static let maximumParts = 10_000

    init(bucket: S3Bucket, key: String, fileSize: UInt64) {
        self.bucket = bucket
        self.key = key
        let chunks = (fileSize / UInt64(Self.maximumParts) + UInt64(ChunkGrid.size) - 1) / UInt64(ChunkGrid.size)
        partSize = max(Self.minimumPartSize, Int(chunks) * ChunkGrid.size)
        buffer = .allocate(byteCount: max(1, Int(min(UInt64(partSize), fileSize))), alignment: 64)
    }

    deinit { buffer.deallocate() }

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

    private func sendPart() throws(S3Error) {
        if uploadID == nil { uploadID = try bucket.createMultipartUpload(key) }
        let etag = try bucket.uploadPart(key, uploadID: uploadID!, number: etags.count + 1,
                                         bytes: UnsafeRawBufferPointer(rebasing: buffer[..<filled]))
        etags.append(etag)
        filled = 0
    }

    /// Makes the object appear with everything appended.
    func complete() throws(S3Error) {
        if let uploadID {
            if filled > 0 { try sendPart() }
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
        if let uploadID { try? bucket.abortMultipartUpload(key, uploadID: uploadID) }
    }
}
