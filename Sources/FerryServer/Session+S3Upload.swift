import FerryCrypto
import FerryS3
import FerryWire

extension Session {
    /// `upload` on object storage: the same checks as on a local root, then the chunks, each verified
    /// as it lands and streamed into a multipart upload (``S3PartWriter``); the object appears only when
    /// every chunk is there and the content hash (and MD5, if given) match, and the digests are stored
    /// beside it (the MD5 among them for a file of at most 64 MiB, or when the request announced one).
    /// A chunk that fails its digest, or comes before the ones ahead of it, is asked for again in
    /// `incomplete`.
    ///
    /// A cut upload (the connection lost, a stall, a malformed frame, a `last` commit with chunks
    /// missing) keeps its multipart upload and leaves an ``S3UploadRecord`` of the parts that arrived:
    /// the same `upload` later, on any node, is answered with their chunks in `partial` and goes on after
    /// them. A refusal or a mismatch drops everything.
    func s3Upload(_ request: UploadRequest, store: S3Store) throws -> TransferSummary {
        uploadAnswered = false
        let (user, path) = try uploader(request.path, size: request.size)
        let replacing = try s3Replaceable(path, store: store)
        guard server.s3Uploads.begin(key: store.key(path), size: request.size) else {
            throw ErrorReply(.busy, "another upload of this file to this path is in progress")
        }
        // Ended after the record of a cut upload is written (the catch below), so the next one finds it.
        defer { server.s3Uploads.end(key: store.key(path), size: request.size) }
        // The MD5 costs more CPU than anything else ferryd does here: kept as chunks land for a file of
        // at most 64 MiB, as the protocol has it for manifests, or when the request says the commit
        // will carry one; otherwise worked out only if someone asks (fetch with md5, get).
        var keepsMD5 = request.md5 == true || request.size <= Self.inlineMD5Limit
        let record = store.takeUploadRecord(path, size: request.size, needsMD5: keepsMD5)
        if record == nil { try s3CheckQuota(user, size: request.size, replacing: replacing, store: store) }
        var writer = S3PartWriter(bucket: store.bucket, key: store.key(path), fileSize: request.size,
                                  computesMD5: keepsMD5, resuming: record)
        // The digests of the chunks taken, in order (parts go up in order): those of a resumed upload first.
        var digests = record?.chunkDigests ?? []
        // Drops every part sent (or resumed) and begins another multipart upload.
        func startAnew() {
            writer.abort()
            writer = S3PartWriter(bucket: store.bucket, key: store.key(path), fileSize: request.size, computesMD5: keepsMD5)
            digests = []
        }
        do {
            let count = ChunkGrid.count(for: request.size)
            uploadAnswered = true
            try sendHeld(Dictionary(uniqueKeysWithValues: digests.enumerated().map { ($0.offset, $0.element) }), count: count)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkGrid.size, alignment: 64)
            defer { buffer.deallocate() }
            var mismatched: [Int] = []
            while true {
                let message = try channel.receive(timeout: configuration.stallTimeout)
                switch message {
                case .chunk(let header):
                    guard header.index >= 0, header.index < count else {
                        throw WireError.malformedMessage("chunk \(header.index) is out of range (the file has \(count) chunks)")
                    }
                    let length = ChunkGrid.length(of: header.index, fileSize: request.size)
                    guard header.size == length else {
                        throw WireError.malformedMessage("chunk \(header.index) must be \(length) bytes, not \(header.size)")
                    }
                    guard let expected = [UInt8](hexString: header.sha256), expected.count == 32 else {
                        throw WireError.malformedMessage("sha256 of chunk \(header.index) must be 64 hex digits")
                    }
                    let body = try s3ReceiveBody(length, into: buffer)
                    let sha256 = Digest(.sha256)
                    sha256.update(body)
                    guard sha256.finalize() == expected else {
                        mismatched.append(header.index)
                        continue
                    }
                    if header.index < digests.count {
                        // Taken already. The same bytes again change nothing; other bytes (the client's
                        // file is not what an earlier attempt sent) decide, as the last copy always does,
                        // and a part cannot change in its middle: the upload starts anew.
                        guard digests[header.index] != expected else { continue }
                        startAnew()
                    }
                    // Parts go up in order: a chunk ahead of the next one is asked for again later.
                    guard header.index == digests.count else { continue }
                    digests.append(expected)
                    try store.call { () throws(S3Error) in try writer.append(body) }
                case .commit(let commit):
                    guard commit.contentHash.count == 64, [UInt8](hexString: commit.contentHash) != nil,
                          commit.md5.map({ $0.count == 32 && [UInt8](hexString: $0) != nil }) ?? true else {
                        throw WireError.malformedMessage("content_hash must be 64 hex digits and md5 32")
                    }
                    if commit.md5 != nil && writer.md5Digest == nil {
                        // An MD5 to check that the request did not announce, for a file too large to
                        // keep one by default: the bytes sent are gone, so the upload starts anew,
                        // keeping the MD5 this time, and asks for every chunk again.
                        keepsMD5 = true
                        startAnew()
                        if commit.last == true {
                            throw ErrorReply(.checksumMismatch, "this server checks the MD5 of a file over 64 MiB only when its upload request says so (\"md5\": true); nothing was stored")
                        }
                        try reply(.incomplete(Incomplete(chunks: [ChunkRange(first: 0, count: count)], mismatched: [])))
                        mismatched = []
                        continue
                    }
                    let next = digests.count
                    if next < count {
                        if commit.last == true {
                            throw S3UploadCut(reply: ErrorReply(.checksumMismatch, "chunks \(ChunkRange.describe(Array(next..<count))) are missing or failed their digest; the verified rest waits for the same upload to resume"))
                        }
                        try reply(.incomplete(Incomplete(
                            chunks: [ChunkRange(first: next, count: count - next)],
                            mismatched: Array(ChunkRange.ranges(of: mismatched.sorted()).prefix(Self.maximumIncompleteRanges))
                        )))
                        mismatched = []
                        continue
                    }
                    let manifest = Manifest(size: request.size, chunks: digests, md5: writer.md5Digest)
                    guard manifest.contentHash.hexString == commit.contentHash.lowercased() else {
                        throw ErrorReply(.checksumMismatch, "the chunks received have content hash \(manifest.contentHash.hexString), not \(commit.contentHash); did the file change while it was sent? Nothing was stored")
                    }
                    let md5Hex = manifest.md5?.hexString ?? ""
                    if let expected = commit.md5, expected.lowercased() != md5Hex {
                        throw ErrorReply(.checksumMismatch, "the data received has MD5 \(md5Hex), not \(expected); nothing was stored")
                    }
                    try s3Complete(writer, path: path, manifest: manifest, mtime: request.mtime, store: store)
                    try reply(.stored(Stored(path: path.description, size: request.size, md5: commit.md5 == nil ? nil : md5Hex,
                                             contentHash: manifest.contentHash.hexString)))
                    return TransferSummary(path: path, md5: md5Hex)
                default:
                    throw WireError.malformedMessage("expected \"chunk\" or \"commit\" during an upload, not \"\(message.type)\"")
                }
            }
        } catch let error as ErrorReply {
            writer.abort()
            throw error
        } catch {
            if let kept = writer.suspend(chunks: digests) { try? store.keepUploadRecord(kept, of: path) }
            if let cut = error as? S3UploadCut { throw cut.reply }
            throw error
        }
    }

    /// `put` (protocol 1) on object storage: the body streamed into a multipart upload as it arrives,
    /// hashed on the way; the object appears only when its MD5 matches. Nothing of a cut `put` is kept.
    func s3Put(_ request: PutRequest, store: S3Store) throws -> TransferSummary {
        let (user, path) = try uploader(request.path, size: request.size)
        guard let expectedMD5 = [UInt8](hexString: request.md5), expectedMD5.count == 16 else {
            throw ErrorReply(.badRequest, "md5 must be 32 hex digits")
        }
        let replacing = try s3Replaceable(path, store: store)
        try s3CheckQuota(user, size: request.size, replacing: replacing, store: store)
        let writer = S3PartWriter(bucket: store.bucket, key: store.key(path), fileSize: request.size, computesMD5: true)
        defer { writer.abort() }
        try reply(.ready)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkGrid.size, alignment: 64)
        defer { buffer.deallocate() }
        var digests: [[UInt8]] = []
        // After a failed part the rest of the body is still read, so the stream stays in step.
        var failure: ErrorReply?
        for index in 0..<ChunkGrid.count(for: request.size) {
            let body = try s3ReceiveBody(ChunkGrid.length(of: index, fileSize: request.size), into: buffer)
            let sha256 = Digest(.sha256)
            sha256.update(body)
            digests.append(sha256.finalize())
            if failure == nil {
                do { try writer.append(body) } catch { failure = S3Store.refusal(error) }
            }
        }
        if let failure { throw failure }
        let manifest = Manifest(size: request.size, chunks: digests, md5: writer.md5Digest)
        guard manifest.md5 == expectedMD5 else {
            throw ErrorReply(.checksumMismatch, "received data has MD5 \(manifest.md5?.hexString ?? ""), not \(expectedMD5.hexString); nothing was stored")
        }
        try s3Complete(writer, path: path, manifest: manifest, mtime: request.mtime, store: store)
        try reply(.stored(Stored(path: path.description, size: request.size, md5: expectedMD5.hexString)))
        return TransferSummary(path: path, md5: expectedMD5.hexString)
    }

    /// Makes the object appear and stores its digests, for the version the store now holds.
    private func s3Complete(_ writer: S3PartWriter, path: SharePath, manifest: Manifest, mtime: Int64?, store: S3Store) throws(ErrorReply) {
        try store.call { () throws(S3Error) in try writer.complete() }
        guard let object = try store.call({ () throws(S3Error) in try store.bucket.head(store.key(path)) }) else {
            throw ErrorReply(.internal, "object store: the object vanished as soon as it was stored")
        }
        try store.storeDigests(S3Digests(etag: object.etag, manifest: manifest, mtime: mtime ?? object.lastModified), of: path)
    }

    /// Exactly `length` body bytes into `buffer`.
    private func s3ReceiveBody(_ length: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> UnsafeRawBufferPointer {
        channel.beginBody()
        var filled = 0
        while filled < length {
            let count = try channel.readBody(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<length]),
                                             remaining: UInt64(length - filled), timeout: configuration.stallTimeout)
            if count == 0 { throw WireError.truncated(expected: UInt64(length), received: UInt64(filled)) }
            filled += count
        }
        channel.endBody()
        return UnsafeRawBufferPointer(rebasing: buffer[..<length])
    }

    /// What an upload to `path` would replace (0 for nothing), refusing a directory and a missing parent.
    func s3Replaceable(_ path: SharePath, store: S3Store) throws(ErrorReply) -> UInt64 {
        try store.requireParent(of: path)
        switch try store.find(path) {
        case .file(let object): return object.size
        case .directory: throw ErrorReply(.isDirectory, "is a directory")
        case .nothing: return 0
        }
    }

    /// The quota on object storage: the sizes under the user's prefix, added up from a listing.
    private func s3CheckQuota(_ user: UserRecord, size: UInt64, replacing: UInt64, store: S3Store) throws(ErrorReply) {
        guard let quota = user.quota else { return }
        let used = try store.usedBytes()
        guard used - min(used, replacing) + size <= quota else {
            throw ErrorReply(.tooLarge, "\(size) bytes would exceed your quota: \(used) of \(quota) bytes used")
        }
    }
}

/// An upload ended by the client with chunks missing: answered with `reply`, and kept for a resume like
/// a cut one.
private struct S3UploadCut: Error {
    let reply: ErrorReply
}
