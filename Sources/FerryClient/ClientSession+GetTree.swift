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

    /// What to tell the user besides the summary, one line each: every failure, then what was left out.
    public var notices: [String] {
        failures + skipped.map { "\($0): not a regular file or directory (a symlink?); left out" }
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
    public func downloadTree(_ remote: String, to local: String, progress: (any TransferProgress)? = nil) throws(ClientError) -> TreeResult {
        let started = ContinuousClock.now
        let tree = try RemoteTree.walk(remote, with: self)
        let download = TreeDownload(remote: remote, root: try LocalTree(path: local))
        download.report(tree)
        let files = download.makeDirectories(tree)

        let label = (LocalDestination.fileName(forRemote: remote).map { $0 + "/" } ?? "/") + " (\(files.count) \(files.count == 1 ? "file" : "files"))"
        progress?.begin(name: label, total: tree.totalBytes, phase: "receiving")
        var sent = 0
        var answered = 0
        do {
            for (index, file) in files.enumerated() {
                if sent < files.count && sent - index <= Self.pipelineDepth / 2 {
                    let end = min(files.count, index + Self.pipelineDepth)
                    try channel.send(files[sent..<end].map { .get(PathRequest(path: RemoteTree.join(remote, $0.relativePath))) }, timeout: timeout)
                    sent = end
                }
                try receiveOne(file, into: download, progress: progress)
                answered += 1
            }
            try download.finish()
        } catch {
            progress?.abandon()
            // Answers still on their way would be read as replies to later commands: only a
            // connection with none outstanding can be used again.
            if answered < sent || channel.isInBody || !(error is ClientError) { channel.socket.close() }
            let message = ClientError(translating: error).message
            throw ClientError("\(message); \(download.saved) files were saved before that")
        }
        let seconds = started.secondsElapsed
        progress?.finish(name: label, bytes: download.savedBytes, seconds: seconds)
        return TreeResult(files: download.saved, bytes: download.savedBytes, seconds: seconds, path: local,
                          failures: download.failures, skipped: tree.skipped.map { download.root.display($0) })
    }

    /// Reads the answer to one pipelined `get` and receives its body into a temporary file of `download`.
    /// A refusal, a local failure or a checksum mismatch is recorded and the stream stays in step; a
    /// connection failure is thrown.
    private func receiveOne(_ file: RemoteTree.File, into download: TreeDownload, progress: (any TransferProgress)?) throws {
        let header: FileHeader
        switch try receiveFileHeader() {
        case .success(let received): header = received
        case .failure(let refusal):
            download.fail(file.relativePath, refusal.message)
            return
        }
        let incoming: IncomingFile
        switch download.create(file.relativePath) {
        case .success(let created): incoming = created
        case .failure(let error):
            download.fail(file.relativePath, error.message)
            try discardBody(header.size)
            return
        }
        // Files waiting for a batch commit should not wait for a large body too: an interruption
        // would lose them along with it.
        if header.size >= CommitBatch.largeBody { try download.commit() }
        let base = download.savedBytes
        do {
            try incoming.receive(header, from: channel, chunkSize: chunkSize, timeout: timeout) { done in
                progress?.update(done: base + done)
            }
        } catch let error as ClientError {
            download.fail(file.relativePath, error.message)
            return
        }
        try download.add(incoming, size: header.size)
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
