import FerryS3
import FerryWire

extension S3Store {
    /// Takes the record a cut upload of `size` bytes to `path` left (``S3UploadRecord``), for a writer to
    /// go on from: read, checked against what the store holds of its multipart upload (ListParts: every
    /// recorded part there, whole, with its ETag), and deleted, so that no other upload takes it too.
    /// Nil when there is none, or none usable: a record for another size, a damaged one, one whose
    /// upload is gone (aborted after `upload_resume_timeout`), or one without an MD5 state when
    /// `needsMD5`, is dropped, and its upload aborted.
    func takeUploadRecord(_ path: SharePath, size: UInt64, needsMD5: Bool) -> S3UploadRecord? {
        let recordKey = uploadRecordKey(path)
        guard let bytes = try? bucket.getSmall(recordKey) else { return nil }
        let record = S3UploadRecord(decoding: bytes)
        guard (try? bucket.delete(recordKey)) != nil else { return nil }
        guard let record else { return nil }
        let usable = record.size == size && record.partSize == S3PartWriter.partSize(for: size) && record.chunkDigests != nil
            && (!needsMD5 || record.md5State != nil)
        if usable, let parts = try? bucket.parts(of: key(path), uploadID: record.uploadID),
           parts.count >= record.parts.count,
           zip(parts, record.parts).enumerated().allSatisfy({ index, pair in
               pair.0.number == index + 1 && pair.0.etag == pair.1 && pair.0.size == UInt64(record.partSize)
           }) {
            return record
        }
        try? bucket.abortMultipartUpload(key(path), uploadID: record.uploadID)
        return nil
    }

    /// Keeps the record of a cut upload to `path` for a later one to take.
    func keepUploadRecord(_ record: S3UploadRecord, of path: SharePath) throws(ErrorReply) {
        let bytes = record.encoded()
        try call { () throws(S3Error) in try bucket.put(uploadRecordKey(path), bytes: bytes) }
    }
}
