import FerryS3
import FerryWire
import Foundation

/// Streams one object to the bucket part by part, so that memory stays at one part whatever the file's
/// size, and nothing is visible at the key until ``complete()``: a file of at most one part goes up in
/// one PUT at the end, a larger one as a multipart upload (begun when its first part is full) that
/// CompleteMultipartUpload turns into the object. Until then ``abort()`` drops every part sent.
///
/// A full part goes up on a thread of its own while the next one fills (from the client), so receiving
/// and sending overlap; memory is two parts, whatever the file's size.
final class S3PartWriter {
    let bucket: S3Bucket
    let key: String
    /// Bytes per part: 16 MiB, or more for a file that would need over 10,000 parts (S3's limit), always
    /// whole chunks of the grid.
    let partSize: Int
    private var buffer: UnsafeMutableRawBufferPointer
    /// The other buffer: the one the part in flight is sent from.
    private var spare: UnsafeMutableRawBufferPointer?
    private var inFlight: PartJob?
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

    deinit {
        _ = try? waitForPart()
        buffer.deallocate()
        spare?.deallocate()
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

    /// Starts sending the full buffer (after the part before it has gone) and goes on in the other one.
    private func sendPart() throws(S3Error) {
        try waitForPart()
        if self.uploadID == nil { self.uploadID = try bucket.createMultipartUpload(key) }
        guard let uploadID else { return }
        let job = PartJob(bucket: bucket, key: key, uploadID: uploadID, number: etags.count + 1,
                          bytes: UnsafeRawBufferPointer(rebasing: buffer[..<filled]))
        inFlight = job
        Thread { job.run() }.start()
        let next = spare ?? .allocate(byteCount: buffer.count, alignment: 64)
        spare = buffer
        buffer = next
        filled = 0
    }

    /// Waits for the part in flight, if any, and keeps its ETag.
    private func waitForPart() throws(S3Error) {
        guard let job = inFlight else { return }
        inFlight = nil
        job.done.wait()
        etags.append(try job.result.get())
    }

    /// Makes the object appear with everything appended.
    func complete() throws(S3Error) {
        if uploadID != nil {
            if filled > 0 { try sendPart() }
            try waitForPart()
            try bucket.completeMultipartUpload(key, uploadID: uploadID!, parts: etags)
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
        _ = try? waitForPart()
        if let uploadID { try? bucket.abortMultipartUpload(key, uploadID: uploadID) }
    }
}

/// One part on its way, sent on a thread of its own. Handed whole to that thread, which alone touches
/// it until it signals `done`; only then does the writer read `result` (hence unchecked Sendable).
private final class PartJob: @unchecked Sendable {
    let bucket: S3Bucket
    let key: String
    let uploadID: String
    let number: Int
    let bytes: UnsafeRawBufferPointer
    let done = DispatchSemaphore(value: 0)
    var result: Result<String, S3Error> = .failure(S3Error(status: 0, code: "internal", message: "the part was not sent"))

    init(bucket: S3Bucket, key: String, uploadID: String, number: Int, bytes: UnsafeRawBufferPointer) {
        self.bucket = bucket
        self.key = key
        self.uploadID = uploadID
        self.number = number
        self.bytes = bytes
    }

    func run() {
        do { result = .success(try bucket.uploadPart(key, uploadID: uploadID, number: number, bytes: bytes)) } catch {
            result = .failure(error)
        }
        done.signal()
    }
}
