import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

extension Session {
    /// `fetch` (feature `chunks`): the file's manifest in pages, then each chunk asked for as a `chunk`
    /// header with its SHA-256 and the bytes by sendfile(2). The manifest is computed once per version
    /// of a file (``ManifestStore``), with `preparing` notices while that lasts. When the client names
    /// the content hash its copy came from and the file's is different now, `file_changed` is the
    /// answer instead of chunks.
    func fetch(_ request: FetchRequest, root: ShareRoot) throws -> TransferSummary {
        let (path, location, file, status) = try openForServing(request.path, root: root)
        let size = UInt64(status.size)
        let count = ChunkGrid.count(for: size)
        let wanted = try Self.indices(request.chunks, count: count)
        var lastNotice = ContinuousClock.now
        let manifest: Manifest
        do {
            // A small file's MD5 costs little in the same pass; a large one's is worked out after.
            let md5 = request.md5 ?? false || size <= Self.inlineMD5Limit
            manifest = try server.manifests.manifest(file, status: status, md5: md5) { done in
                if ContinuousClock.now - lastNotice >= .seconds(1) {
                    lastNotice = .now
                    try reply(.preparing(Preparing(done: done, total: size)))
                }
            }
        } catch let error as PosixError {
            throw ErrorReply(posix: error)
        } catch is FileShrank {
            throw ErrorReply(.fileChanged, "the file shrank while it was hashed; try again")
        }
        let contentHash = manifest.contentHash.hexString
        if request.manifest ?? true {
            try sendManifest(manifest, name: path.name, mtime: status.modificationTime)
        }
        if let expect = request.expect, expect.lowercased() != contentHash {
            throw ErrorReply(.fileChanged, "the file changed since your copy began (content hash now \(ContentHash.short(contentHash)))")
        }
        for index in wanted {
            let header = ChunkHeader(index: index, size: ChunkGrid.length(of: index, fileSize: size), sha256: manifest.chunks[index].hexString)
            try sendChunk(header, from: file)
        }
        // After the chunks, so that it does not compete with them.
        if manifest.md5 == nil { computeMD5Later(location, status: status) }
        return TransferSummary(path: location.path, md5: manifest.md5?.hexString ?? "")
    }

    /// Files up to this size get their MD5 in the same pass as their chunk digests.
    static let inlineMD5Limit: UInt64 = 64 << 20

    /// The chunk indices `ranges` name (all when nil), checked: in range, ascending, not overlapping.
    static func indices(_ ranges: [ChunkRange]?, count: Int) throws(ErrorReply) -> [Int] {
        guard let ranges else { return Array(0..<count) }
        var indices: [Int] = []
        var next = 0
        for range in ranges {
            guard range.count > 0, range.first >= next, range.first <= count - range.count else {
                throw ErrorReply(.badRequest, "chunk range [\(range.first), \(range.count)] is empty, out of order or past the last chunk (the file has \(count))")
            }
            indices += range.indices
            next = range.first + range.count
        }
        return indices
    }

    func sendManifest(_ manifest: Manifest, name: String, mtime: Int64) throws {
        let hexes = manifest.chunks.map(\.hexString)
        var first = 0
        repeat {
            let end = min(hexes.count, first + ManifestPage.maximumDigests)
            try reply(.manifest(ManifestPage(
                name: name, size: manifest.size, mtime: mtime, chunkCount: hexes.count,
                contentHash: manifest.contentHash.hexString, md5: manifest.md5?.hexString,
                first: first, chunks: Array(hexes[first..<end]), more: end < hexes.count
            )))
            first = end
        } while first < hexes.count
    }

    /// One chunk: a small one goes out with its header in a single write, a large one by sendfile.
    private func sendChunk(_ header: ChunkHeader, from file: Descriptor) throws {
        let offset = ChunkGrid.offset(of: header.index)
        guard header.size > configuration.chunkSize else {
            return try withChunkBuffer { buffer in
                let body = UnsafeMutableRawBufferPointer(rebasing: buffer[..<header.size])
                let count: Int
                do throws(PosixError) { count = try File.read(file, into: body, at: Int64(offset)) } catch { throw ErrorReply(posix: error) }
                guard count == header.size else { throw ErrorReply(.fileChanged, "the file shrank while it was being sent; try again") }
                try channel.send(.chunk(header), body: UnsafeRawBufferPointer(body), timeout: configuration.stallTimeout)
            }
        }
        try reply(.chunk(header))
        try channel.sendBody(file: file, from: offset, length: UInt64(header.size), chunkSize: configuration.chunkSize,
                             timeout: configuration.stallTimeout)
    }

    /// Works out the MD5 of a file after the reply, on a background queue, so that the next manifest
    /// (and `stat`, and the transfer log) can carry it without a client waiting for it now.
    func computeMD5Later(_ location: ShareRoot.Location, status: FileStatus) {
        guard let file = try? File.openForReading(location.name, in: location.parent) else { return }
        server.computeMD5Later(file, status: status)
    }
}
