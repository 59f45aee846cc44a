import FerryCrypto
import FerryS3
import FerryWire

/// Streams one object to the bucket part by part, so that memory stays at a few parts whatever the
/// file's size, and nothing is visible at the key until ``complete()``: a file of at most one part goes
/// up in one PUT at the end, a larger one as a multipart upload (begun when its first part is full) that
/// CompleteMultipartUpload turns into the object. Until then ``abort()`` drops every part sent.
///
/// Full parts go up through an ``S3Pipeline``, ``partsInFlight`` at once on connections of their own,
/// while the next one fills from the client; memory is `partsInFlight + 1` parts.
///
/// A cut upload can be ``suspend(chunks:)``ed into an ``S3UploadRecord``, and a later writer made from
/// that record goes on after the last part that arrived. When asked to, the writer also keeps the MD5
/// of what was appended, saved at every part's end so that it too goes on after a resume.
final class S3PartWriter {
    let bucket: S3Bucket
    let key: String
    let fileSize: UInt64
    /// Bytes per part (``partSize(for:)``).
    let partSize: Int
    /// Answers a part's number and ETag.
    private let pipeline: S3Pipeline<(Int, String)>
    /// The part being filled.
    private var buffer: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var uploadID: String?
    /// The ETags of the parts that arrived, by part number (from 1); parts arrive in any order.
    private var etags: [Int: String] = [:]
    private var partsStarted = 0
    /// Parts 1 to `heldParts` all arrived; `heldState` is the MD5 state at their end.
    private var heldParts = 0
    private var heldState: [UInt8]?
    /// The MD5 state at the end of each part started after `heldParts`, by part number.
    private var partEndStates: [Int: [UInt8]] = [:]
    private var finished = false
    /// Nil when the MD5 is not wanted.
    private let md5: ResumableMD5?

    static let minimumPartSize = 2 * ChunkGrid.size
    static let maximumParts = 10_000
    /// Parts sent at once: enough to keep an object store busy on several cores and to ride out a
    /// request that stalls (awscli keeps ten requests of 8 MiB going), few enough that an upload holds
    /// 72 MiB (docs/PERFORMANCE.md has the measurements behind the choice).
    static let partsInFlight = 8

    /// A writer of a `fileSize`-byte object, which keeps the MD5 if `computesMD5`; with `resuming` (a
    /// record of this key, size and part size, see ``partSize(for:)``, with an MD5 state if
    /// `computesMD5`), one that goes on after the record's parts, its next append being the first byte
    /// after them.
    init(bucket: S3Bucket, key: String, fileSize: UInt64, computesMD5: Bool, resuming record: S3UploadRecord? = nil) {
        self.bucket = bucket
        self.key = key
        self.fileSize = fileSize
        partSize = Self.partSize(for: fileSize)
        pipeline = S3Pipeline(like: bucket, width: Self.partsInFlight,
                              bufferSize: max(1, Int(min(UInt64(partSize), fileSize))))
        buffer = pipeline.buffer()
        if let record, record.partSize == partSize, !computesMD5 || record.md5 != nil {
            uploadID = record.uploadID
            for (index, etag) in record.parts.enumerated() { etags[index + 1] = etag }
            partsStarted = record.parts.count
            heldParts = record.parts.count
            md5 = computesMD5 ? record.md5 : nil
        } else {
            md5 = computesMD5 ? ResumableMD5() : nil
        }
        heldState = md5?.state
    }

    /// The part size for a file of `fileSize` bytes: 8 MiB, or more for a file that would need over
    /// 10,000 parts, always whole chunks of the grid.
    static func partSize(for fileSize: UInt64) -> Int {
        let chunks = (fileSize / UInt64(maximumParts) + UInt64(ChunkGrid.size) - 1) / UInt64(ChunkGrid.size)
        return max(minimumPartSize, Int(chunks) * ChunkGrid.size)
    }

    /// The MD5 of everything appended (after a resume: from the object's first byte); nil when not kept.
    var md5Digest: [UInt8]? { md5?.digest() }

    deinit {
        pipeline.drain()
        pipeline.recycle(buffer)
    }

    /// Adds the next bytes of the object, sending a part whenever one is full.
    func append(_ bytes: UnsafeRawBufferPointer) throws(S3Error) {
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, buffer.count - filled)
            let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + count)]).copyMemory(from: piece)
            md5?.update(piece)
            filled += count
            offset += count
            if filled == buffer.count { try sendPart() }
        }
    }

    /// Starts sending the filled buffer (once a lane is free) and goes on in another one.
    private func sendPart() throws(S3Error) {
        if pipeline.isFull { try takeFinishedPart() }
        if uploadID == nil { uploadID = try bucket.createMultipartUpload(key) }
        guard let uploadID else { return }
        let (key, number, length) = (key, partsStarted + 1, filled)
        try pipeline.start(buffer) { (lane, part) throws(S3Error) -> (Int, String) in
            (number, try lane.uploadPart(key, uploadID: uploadID, number: number, bytes: UnsafeRawBufferPointer(rebasing: part[..<length])))
        }
        partsStarted += 1
        if let md5 { partEndStates[number] = md5.state }
        buffer = pipeline.buffer()
        filled = 0
    }

    /// Waits for the next part in flight to end (whichever it is) and keeps its ETag.
    private func takeFinishedPart() throws(S3Error) {
        let ((number, etag), part) = try pipeline.takeFinished()
        pipeline.recycle(part)
        etags[number] = etag
        while etags[heldParts + 1] != nil {
            heldParts += 1
            if let state = partEndStates.removeValue(forKey: heldParts) { heldState = state }
        }
    }

    /// Makes the object appear with everything appended.
    func complete() throws(S3Error) {
        if let uploadID {
            if filled > 0 { try sendPart() }
            while pipeline.pending > 0 { try takeFinishedPart() }
            try bucket.completeMultipartUpload(key, uploadID: uploadID, parts: (1...partsStarted).map { etags[$0]! })
        } else {
            try bucket.put(key, bytes: UnsafeRawBufferPointer(rebasing: buffer[..<filled]))
        }
        finished = true
    }

    /// Stops without completing or aborting: waits for the parts in flight and returns what a later
    /// writer needs to go on after parts 1, 2, … as far as all of them arrived, or nil when
    /// there is nothing to go on from (no multipart upload was begun). `chunks` are the digests of the
    /// chunks appended, in order; the record keeps those of the held parts.
    func suspend(chunks: [[UInt8]]) -> S3UploadRecord? {
        guard !finished else { return nil }
        finished = true
        while pipeline.pending > 0 { try? takeFinishedPart() }
        guard let uploadID else { return nil }
        let held = heldParts * (partSize / ChunkGrid.size)
        guard held <= chunks.count else { return nil }
        return S3UploadRecord(uploadID: uploadID, size: fileSize, partSize: partSize, parts: (0..<heldParts).map { etags[$0 + 1]! },
                              chunks: Array(chunks.prefix(held)), md5State: heldState)
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
