import FerryPosix
import FerryTransport
import FerryWire

/// What a recursive get did.
public struct TreeResult: Sendable {
    /// Files saved, each verified by MD5.
    public let files: Int
    public let bytes: UInt64
    public let seconds: Double
    /// The local directory the tree was saved in.
    public let path: String
    /// One line for each file or directory that could not be fetched or saved.
    public let failures: [String]
    /// Remote symlinks and special files, which are left out.
    public let skipped: [String]
    /// Files already here with the server's content: not fetched.
    public var unchanged = 0

    /// What to tell the user besides the summary, one line each: every failure, then what was left out.
    public var notices: [String] {
        failures + skipped.map { "\($0): not a regular file or directory (a symlink?); left out" }
            + (unchanged > 0 ? ["\(unchanged) \(unchanged == 1 ? "file was" : "files were") unchanged (same content hash here and on the server) and not fetched"] : [])
    }
}

extension ClientSession {
    /// Get requests a recursive get keeps in flight on its one connection.
    public static let pipelineDepth = 64

    /// Downloads the remote directory `remote` and everything below it into the local directory
    /// `local` (created if missing), like `sftp get -r` or `lftp mirror`, over this one connection.
    ///
    /// Requests are pipelined: up to ``pipelineDepth`` `get`s are sent before their answers are read,
    /// and the server answers them in order, so small files do not each wait a round trip. Every file
    /// is verified like a single get and lands through a hidden temporary file; files are made durable
    /// and renamed in batches (``CommitBatch``). A file the server refuses or that fails its checksum
    /// is reported in ``TreeResult/failures`` and the rest go on; a broken connection ends it all,
    /// with the files already committed kept and nothing partial left.
    public func downloadTree(_ remote: String, to local: String, progress: (any TransferProgress)? = nil,
                             options: TransferOptions = TransferOptions()) throws(ClientError) -> TreeResult {
        limitRate(options.limitRate)
        let started = ContinuousClock.now
        let tree = try RemoteTree.walk(remote, with: self)
        let download = TreeDownload(remote: remote, root: try LocalTree(path: local))
        download.report(tree)
        var files = download.makeDirectories(tree)
        var unchanged = 0
        var resumable: [RemoteTree.File] = []
        if chunked { (files, unchanged, resumable) = sortOut(files, download: download, options: options) }

        let total = files.count + resumable.count
        let name = LocalDestination.fileName(forRemote: remote).map { $0 + "/" } ?? "/"
        let label = { (done: Int) in "\(name) \(done)/\(total) \(total == 1 ? "file" : "files")" }
        let bytes = (files + resumable).reduce(UInt64(0)) { $0 + $1.size }
        progress?.begin(name: label(0), total: bytes, phase: "receiving")
        var sent = 0
        var answered = 0
        var moved: UInt64 = 0
        do {
            for (index, file) in files.enumerated() {
                if sent < files.count && sent - index <= Self.pipelineDepth / 2 {
                    let end = min(files.count, index + Self.pipelineDepth)
                    try channel.send(files[sent..<end].map { file in
                        let path = RemoteTree.join(remote, file.relativePath)
                        return chunked ? .fetch(FetchRequest(path: path)) : .get(PathRequest(path: path))
                    }, timeout: timeout)
                    sent = end
                }
                let base = moved
                let report: (UInt64) -> Void = { done in progress?.update(done: base + done) }
                moved += chunked ? try receiveOneChunked(file, into: download, options: options, progress: report)
                                 : try receiveOne(file, into: download, options: options, progress: report)
                answered += 1
                progress?.relabel(label(answered))
            }
            try download.finish()
            for file in resumable {
                let base = moved
                moved += try resumeOne(file, remote: remote, into: download, options: options) { progress?.update(done: base + $0) }
                answered += 1
                progress?.relabel(label(answered))
            }
        } catch {
            progress?.abandon()
            // Answers still on their way would be read as replies to later commands: only a
            // connection with none outstanding can be used again.
            if answered < sent || channel.isInBody || !(error is ClientError) { channel.socket.close() }
            let message = ClientError(translating: error).message
            throw ClientError("\(message); \(download.saved) files were saved before that")
        }
        let seconds = started.secondsElapsed
        let check = chunked ? "SHA-256 verified" : "MD5 verified"
        progress?.finish(name: label(answered), bytes: moved, seconds: seconds, check: check)
        return TreeResult(files: download.saved, bytes: moved, seconds: seconds, path: local,
                          failures: download.failures, skipped: tree.skipped.map { download.root.display($0) }, unchanged: unchanged)
    }

    /// Splits a tree's files three ways: those to fetch, those already here with the server's content
    /// hash (counted, not fetched), and those with a partial download to resume.
    private func sortOut(_ files: [RemoteTree.File], download: TreeDownload, options: TransferOptions)
        -> (fetch: [RemoteTree.File], unchanged: Int, resume: [RemoteTree.File]) {
        var fetch: [RemoteTree.File] = []
        var unchanged = 0
        var resume: [RemoteTree.File] = []
        for file in files {
            let parent = TreeDownload.parent(of: file.relativePath)
            let name = TreeDownload.name(of: file.relativePath)
            guard let directory = try? download.root.directory(parent) else {
                fetch.append(file)
                continue
            }
            if let hash = file.contentHash, (localDigests ?? LocalDigests(path: nil)).contentHash(of: name, in: directory, size: file.size) == hash {
                unchanged += 1
                continue
            }
            let partial = DownloadPartial(name: name, in: directory, directoryPath: download.root.display(parent))
            if (try? FileStatus.of(partial.recordName, in: directory)) != nil {
                if options.resume {
                    resume.append(file)
                    continue
                }
                partial.discard()
            }
            fetch.append(file)
        }
        return (fetch, unchanged, resume)
    }

    /// Reads the answer to one pipelined `fetch` (manifest, then every chunk) and puts the file in
    /// place: a small one through a temporary file and the batch commit, a large one through its
    /// resumable partial. Returns the bytes received. A refusal, a local failure or a chunk that fails
    /// its digest is recorded and the stream stays in step; a connection failure is thrown.
    private func receiveOneChunked(_ file: RemoteTree.File, into download: TreeDownload, options: TransferOptions,
                                   progress: (UInt64) -> Void) throws -> UInt64 {
        let manifest: RemoteManifest
        switch Result(catching: { () throws(ClientError) in try receiveManifest(progress: nil, label: file.relativePath) }) {
        case .success(let received): manifest = received
        case .failure(let error):
            guard error.code != nil else { throw error }
            download.fail(file.relativePath, error.message)
            return 0
        }
        let all = Array(0..<manifest.chunks.count)
        var received: UInt64 = 0
        let count = { (bytes: Int) in
            received += UInt64(bytes)
            progress(received)
        }
        if manifest.size <= UInt64(ChunkGrid.size) {
            let incoming: IncomingFile
            switch download.create(file.relativePath) {
            case .success(let created): incoming = created
            case .failure(let error):
                download.fail(file.relativePath, error.message)
                try discardChunks(all.count)
                return 0
            }
            let outcome = try receiveChunks(all, manifest: manifest, into: incoming.file!, record: nil, progress: count)
            guard outcome.writeError == nil, outcome.mismatched.isEmpty else {
                download.fail(file.relativePath, outcome.writeError.map { "cannot write: \($0.reason)" } ?? "the bytes received did not match their digest; nothing was saved")
                return received
            }
            guard download.preserve(options.attributes(mtime: manifest.mtime, mode: file.mode), on: incoming.file!, file.relativePath) else {
                return received
            }
            if let status = try? FileStatus.of(incoming.file!) {
                localDigests?.store(LocalDigests.Digests(contentHash: manifest.contentHash, md5: nil), for: status)
            }
            try download.add(incoming, size: manifest.size)
            return received
        }
        // Files waiting for a batch commit should not wait for a large body too.
        try download.commit()
        let parent = TreeDownload.parent(of: file.relativePath)
        let partial: DownloadPartial
        do {
            let directory = try download.root.directory(parent)
            partial = DownloadPartial(name: TreeDownload.name(of: file.relativePath), in: directory, directoryPath: download.root.display(parent))
            try partial.start(manifest)
        } catch {
            download.fail(file.relativePath, error.message)
            try discardChunks(all.count)
            return 0
        }
        let outcome = try receiveChunks(all, manifest: manifest, into: partial.file!, record: partial.record, progress: count)
        guard outcome.writeError == nil, outcome.mismatched.isEmpty else {
            download.fail(file.relativePath, outcome.writeError.map { "cannot write: \($0.reason)" }
                          ?? "chunks \(ChunkRange.describe(outcome.mismatched)) did not match their digest; the verified rest is kept for the next get -r")
            if outcome.verified.isEmpty { partial.discard() }
            return received
        }
        guard download.preserve(options.attributes(mtime: manifest.mtime, mode: file.mode), on: partial.file!, file.relativePath) else {
            return received
        }
        if let status = try? FileStatus.of(partial.file!) {
            localDigests?.store(LocalDigests.Digests(contentHash: manifest.contentHash, md5: nil), for: status)
        }
        do {
            try partial.commit(as: TreeDownload.name(of: file.relativePath))
            download.savedDirectly(size: manifest.size)
        } catch {
            download.fail(file.relativePath, error.message)
        }
        return received
    }

    /// Resumes one file of a tree from its partial, as a single get does. Returns the bytes received.
    private func resumeOne(_ file: RemoteTree.File, remote: String, into download: TreeDownload, options: TransferOptions,
                           progress: @escaping (UInt64) -> Void) throws -> UInt64 {
        let parent = TreeDownload.parent(of: file.relativePath)
        let destination = LocalDestination(directory: download.root.display(parent), name: TreeDownload.name(of: file.relativePath))
        do {
            let directory = try download.root.directory(parent)
            let result = try downloadChunked(RemoteTree.join(remote, file.relativePath), to: destination, directory: directory,
                                             progress: ForwardingProgress(progress), options: options, mode: file.mode)
            download.savedDirectly(size: file.size)
            return result.bytes
        } catch {
            // A refusal, or a failure that left the connection usable, costs this file only.
            guard error.code != nil || channel.socket.descriptor.isOpen else { throw error }
            download.fail(file.relativePath, error.message)
            return 0
        }
    }

    /// Reads and drops the `count` chunks that answer a fetch whose file cannot be saved.
    private func discardChunks(_ count: Int) throws {
        for _ in 0..<count {
            let message = try channel.receive(timeout: timeout)
            guard case .chunk(let header) = message else {
                if case .error = message { return }
                throw unexpected(message)
            }
            try discardBody(UInt64(max(header.size, 0)))
        }
    }

    /// Reads the answer to one pipelined `get` and receives its body into a temporary file of `download`.
    /// A refusal, a local failure or a checksum mismatch is recorded and the stream stays in step; a
    /// connection failure is thrown.
    private func receiveOne(_ file: RemoteTree.File, into download: TreeDownload, options: TransferOptions,
                            progress: (UInt64) -> Void) throws -> UInt64 {
        let header: FileHeader
        switch try receiveFileHeader() {
        case .success(let received): header = received
        case .failure(let refusal):
            download.fail(file.relativePath, refusal.message)
            return 0
        }
        let incoming: IncomingFile
        switch download.create(file.relativePath) {
        case .success(let created): incoming = created
        case .failure(let error):
            download.fail(file.relativePath, error.message)
            try discardBody(header.size)
            return header.size
        }
        // Files waiting for a batch commit should not wait for a large body too: an interruption
        // would lose them along with it.
        if header.size >= CommitBatch.largeBody { try download.commit() }
        do {
            try incoming.receive(header, from: channel, chunkSize: chunkSize, timeout: timeout, progress: progress)
        } catch let error as ClientError {
            download.fail(file.relativePath, error.message)
            return header.size
        }
        guard download.preserve(options.attributes(mtime: header.mtime, mode: file.mode), on: incoming.file!, file.relativePath) else {
            return header.size
        }
        try download.add(incoming, size: header.size)
        return header.size
    }

    /// The answer to one pipelined `get`, past any `preparing` notices: its `file` header, or the
    /// server's refusal, after which the next answer follows. Anything else is thrown.
    private func receiveFileHeader() throws -> Result<FileHeader, ErrorReply> {
        var message = try channel.receive(timeout: timeout)
        while case .preparing = message { message = try channel.receive(timeout: timeout) }
        switch message {
        case .file(let header): return .success(header)
        case .error(let reply): return .failure(reply)
        default: throw unexpected(message)
        }
    }

    /// Reads and drops a body that cannot be saved, so that the answers after it stay in step.
    private func discardBody(_ size: UInt64) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var left = size
        channel.beginBody()
        while left > 0 {
            let count = try channel.readBody(into: buffer, remaining: left, timeout: timeout)
            if count == 0 { throw ChannelClosed() }
            left -= UInt64(count)
        }
        channel.endBody()
    }

}
