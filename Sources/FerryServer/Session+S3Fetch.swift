import FerryCrypto
import FerryS3
import FerryTransport
import FerryWire

extension Session {
    /// `fetch` on object storage: the manifest from the digests stored with the file (hashed now, with
    /// `preparing` notices, and stored, only for a file written by something other than ferryd, or when
    /// the MD5 is asked for and was not kept), then
    /// each chunk asked for by a ranged GET of that version of the object (If-Match its ETag), sent
    /// with its digest, a few chunks read ahead while one is sent (``S3ChunkReader``): at most four
    /// 4 MiB buffers per transfer, whatever the file's size.
    func s3Fetch(_ request: FetchRequest, store: S3Store) throws -> TransferSummary {
        let (path, object) = try s3File(request.path, store: store)
        let wanted = try Self.indices(request.chunks, count: ChunkGrid.count(for: object.size))
        var (manifest, mtime) = try s3Manifest(path, object: object, store: store)
        if request.md5 == true && manifest.md5 == nil {
            (manifest, mtime) = try s3Manifest(path, object: object, store: store, hashAnyway: true)
        }
        if request.manifest ?? true {
            try sendManifest(manifest, name: path.name, mtime: mtime)
        }
        if let expect = request.expect, expect.lowercased() != manifest.contentHash.hexString {
            throw ErrorReply(.fileChanged, "the file changed since your copy began (content hash now \(ContentHash.short(manifest.contentHash.hexString)))")
        }
        guard !wanted.isEmpty else { return TransferSummary(path: path, md5: manifest.md5?.hexString ?? "") }
        let reader = S3ChunkReader(store: store, path: path, object: object, indices: wanted)
        while let (index, body) = try reader.next() {
            let header = ChunkHeader(index: index, size: body.count, sha256: manifest.chunks[index].hexString)
            try channel.send(.chunk(header), body: body, timeout: configuration.stallTimeout)
        }
        return TransferSummary(path: path, md5: manifest.md5?.hexString ?? "")
    }

    /// `get` (protocol 1) on object storage: the MD5 from the stored digests, then the body in 4 MiB
    /// ranged GETs of that version of the object, a few ahead.
    func s3Get(_ request: PathRequest, store: S3Store) throws -> TransferSummary {
        let (path, object) = try s3File(request.path, store: store)
        var (manifest, mtime) = try s3Manifest(path, object: object, store: store)
        if manifest.md5 == nil { (manifest, mtime) = try s3Manifest(path, object: object, store: store, hashAnyway: true) }
        let md5 = manifest.md5?.hexString ?? ""
        try reply(.file(FileHeader(name: path.name, size: object.size, md5: md5, mtime: mtime)))
        let reader = S3ChunkReader(store: store, path: path, object: object,
                                   indices: Array(0..<ChunkGrid.count(for: object.size)))
        // A failure between two pieces is inside the body all the same: no error frame may follow.
        channel.beginBody()
        while let (_, body) = try reader.next() {
            try channel.sendBody(body, timeout: configuration.stallTimeout)
            channel.beginBody()
        }
        channel.endBody()
        return TransferSummary(path: path, md5: md5)
    }

    /// The file a `get` or `fetch` names: never the root or a directory.
    func s3File(_ raw: String, store: S3Store) throws(ErrorReply) -> (SharePath, S3Object) {
        let path = try SharePath(parsing: raw)
        switch try store.find(path) {
        case .file(let object): return (path, object)
        case .directory: throw ErrorReply(.isDirectory, "is a directory")
        case .nothing: throw ErrorReply(.notFound, "no such file or directory")
        }
    }

    /// The manifest and modification time of this version of the object: from its stored digests, or
    /// worked out now in one pass of ranged GETs (with `preparing` about once a second) and stored for
    /// the next time, by any node.
    func s3Manifest(_ path: SharePath, object: S3Object, store: S3Store, hashAnyway: Bool = false) throws -> (Manifest, Int64) {
        if !hashAnyway, let digests = store.digests(of: path, object: object), let manifest = digests.manifest {
            return (manifest, digests.mtime)
        }
        let reader = S3ChunkReader(store: store, path: path, object: object,
                                   indices: Array(0..<ChunkGrid.count(for: object.size)))
        let md5 = Digest(.md5)
        var chunks: [[UInt8]] = []
        var lastNotice = ContinuousClock.now
        while let (index, body) = try reader.next() {
            md5.update(body)
            let sha256 = Digest(.sha256)
            sha256.update(body)
            chunks.append(sha256.finalize())
            if ContinuousClock.now - lastNotice >= .seconds(1) {
                lastNotice = .now
                try reply(.preparing(Preparing(done: ChunkGrid.offset(of: index + 1), total: object.size)))
            }
        }
        let manifest = Manifest(size: object.size, chunks: chunks, md5: md5.finalize())
        try? store.storeDigests(S3Digests(etag: object.etag, manifest: manifest, mtime: object.lastModified), of: path)
        return (manifest, object.lastModified)
    }
}
