import FerryCrypto
import FerryPosix
import FerryWire

/// What a recursive put did.
public struct UploadTreeResult: Sendable {
    /// Files stored, each verified chunk by chunk.
    public let files: Int
    /// Bytes moved by this run.
    public let bytes: UInt64
    public let seconds: Double
    /// The remote directory the tree went to.
    public let path: String
    /// Files the server already had with the same content hash: not sent.
    public let unchanged: Int
    /// One line for each file or directory that could not be sent.
    public let failures: [String]
    /// Local symlinks and special files, which are left out.
    public let skipped: [String]

    public var notices: [String] {
        failures + skipped.map { "\($0): not a regular file or directory (a symlink?); left out" }
            + (unchanged > 0 ? ["\(unchanged) \(unchanged == 1 ? "file was" : "files were") unchanged (same content hash here and on the server) and not sent"] : [])
    }
}

extension ClientSession {
    /// Creates a remote directory (feature `mkdir`); with `parents`, every missing one on the way too,
    /// and an existing directory is fine.
    public func makeDirectory(_ path: String, parents: Bool = false) throws(ClientError) -> Entry {
        guard hello.offers(Hello.mkdirFeature) else {
            throw ClientError("this server cannot create directories (an older ferryd)", code: .unsupported)
        }
        let message = try request(.mkdir(MakeDirectory(path: path, parents: parents ? true : nil)))
        guard case .entry(let reply) = message else { throw unexpected(message) }
        return reply.entry
    }

    /// Uploads the local directory `local` and everything below it to the remote directory `remote`
    /// (created with its parents if missing), like `scp -r` or `lftp mirror -R`. Each file goes up as a
    /// single put does, chunk-verified and resumable; a file the server already has with the same
    /// content hash (from its listing, against this client's cache of local digests) is not sent. A
    /// refused or failed file is reported and the rest go on; a broken connection ends it all.
    public func uploadTree(_ local: String, to remote: String, progress: (any TransferProgress)? = nil,
                           options: TransferOptions = TransferOptions()) throws(ClientError) -> UploadTreeResult {
        limitRate(options.limitRate)
        guard chunked, hello.offers(Hello.mkdirFeature) else {
            throw ClientError("this server cannot take a directory (an older ferryd without chunks and mkdir)", code: .unsupported)
        }
        let options = uploadOptions(options)
        let started = ContinuousClock.now
        let tree = try LocalWalk.walk(local)
        _ = try makeDirectory(remote, parents: true)
        var failures: [String] = []
        var made: Set<String> = [""]
        for directory in tree.directories {
            guard made.contains(TreeDownload.parent(of: directory)) else { continue }
            do {
                _ = try makeDirectory(RemoteTree.join(remote, directory), parents: true)
                made.insert(directory)
            } catch where error.code != nil {
                failures.append("\(RemoteTree.join(remote, directory)): \(error.message)")
            }
        }
        // What the server has now, to leave out what is the same.
        let existing = try RemoteTree.walk(remote, with: self).files
        let remoteFiles = Dictionary(existing.map { ($0.relativePath, $0) }, uniquingKeysWith: { first, _ in first })
        let digests = localDigests ?? LocalDigests(path: nil)
        var unchanged = 0
        var toSend: [LocalWalk.File] = []
        var directory: (path: String, descriptor: Descriptor?) = ("", nil)
        for file in tree.files where made.contains(TreeDownload.parent(of: file.relativePath)) {
            let parent = TreeDownload.parent(of: file.relativePath)
            if directory.descriptor == nil || directory.path != parent {
                directory = (parent, try? File.openDirectory(path: LocalTree.join(local, parent)))
            }
            if let there = remoteFiles[file.relativePath], there.size == file.size, let hash = there.contentHash,
               let descriptor = directory.descriptor,
               digests.contentHash(of: TreeDownload.name(of: file.relativePath), in: descriptor, size: file.size) == hash {
                unchanged += 1
                continue
            }
            toSend.append(file)
        }

        let name = (LocalDestination.fileName(forRemote: local) ?? local) + "/"
        let label = { (done: Int) in "\(name) \(done)/\(toSend.count) \(toSend.count == 1 ? "file" : "files")" }
        progress?.begin(name: label(0), total: toSend.reduce(0) { $0 + $1.size }, phase: "sending")
        var moved: UInt64 = 0
        var stored = 0
        var done = 0
        // Files of one chunk go up pipelined; what that could not store, and the large files, one by one.
        // (A pipelined file is sent whole, so it never takes up a partial: --no-resume changes nothing there.)
        var oneByOne = toSend.filter { $0.size > UInt64(ChunkGrid.size) }
        do throws(ClientError) {
            let small = toSend.filter { $0.size <= UInt64(ChunkGrid.size) }
            let pipelined = try uploadPipelined(small, from: local, to: remote, preserve: options.preserve) { file, outcome in
                done += 1
                switch outcome {
                case .stored:
                    stored += 1
                    moved += file.size
                    progress?.update(done: moved)
                case .retry: oneByOne.append(file)
                case .failed(let why): failures.append("\(LocalTree.join(local, file.relativePath)): \(why)")
                }
                progress?.relabel(label(done))
            }
            done -= pipelined.retried
        } catch {
            progress?.abandon()
            throw ClientError("\(error.message); \(stored) files were stored before that")
        }
        for file in oneByOne {
            let base = moved
            do {
                let result = try upload(LocalTree.join(local, file.relativePath), to: RemoteTree.join(remote, file.relativePath),
                                        progress: ForwardingProgress { progress?.update(done: base + $0) }, options: options)
                moved += result.bytes
                stored += 1
            } catch {
                guard channel.socket.descriptor.isOpen else {
                    progress?.abandon()
                    throw ClientError("\(error.message); \(stored) files were stored before that")
                }
                failures.append("\(LocalTree.join(local, file.relativePath)): \(error.message)")
            }
            done += 1
            progress?.relabel(label(done))
        }
        let seconds = started.secondsElapsed
        progress?.finish(name: label(toSend.count), bytes: moved, seconds: seconds, check: "SHA-256 verified")
        return UploadTreeResult(files: stored, bytes: moved, seconds: seconds, path: remote, unchanged: unchanged,
                                failures: failures, skipped: tree.skipped.map { LocalTree.join(local, $0) })
    }
}

/// What became of one file sent in a pipeline.
enum PipelinedOutcome {
    case stored
    /// Not stored, but worth a try on its own (busy, or a chunk damaged on the way).
    case retry
    case failed(String)
}

extension ClientSession {
    /// Files in flight at most, and their bytes.
    static let uploadWindow = (files: 32, bytes: UInt64(32 << 20))

    /// Uploads files of at most one chunk without waiting for each answer (docs/PROTOCOL.md 6.6.4,
    /// pipelining): for each, `upload`, its `chunk` and a `commit` marked `last` go out in a row, and
    /// the answers are read in order while later files are sent. A refused upload costs nothing more:
    /// the server drops the chunk and commit sent behind it. `report` hears what became of each file,
    /// in order. With `preserve` each carries the local modification time. Returns how many were handed
    /// back for a retry on their own.
    func uploadPipelined(_ files: [LocalWalk.File], from local: String, to remote: String, preserve: Bool = false,
                         report: (LocalWalk.File, PipelinedOutcome) -> Void) throws(ClientError) -> (stored: Int, retried: Int) {
        guard !files.isEmpty else { return (0, 0) }
        var inFlight: [(file: LocalWalk.File, status: FileStatus?, contentHash: String)] = []
        var inFlightBytes: UInt64 = 0
        var counts = (stored: 0, retried: 0)
        func settleOne() throws(ClientError) {
            let (file, status, contentHash) = inFlight.removeFirst()
            inFlightBytes -= file.size
            let outcome = try readPipelinedAnswer()
            switch outcome {
            case .stored:
                counts.stored += 1
                if let status { localDigests?.store(LocalDigests.Digests(contentHash: contentHash, md5: nil), for: status) }
            case .retry: counts.retried += 1
            case .failed: break
            }
            report(file, outcome)
        }
        do {
            for file in files {
                let path = LocalTree.join(local, file.relativePath)
                let bytes: [UInt8]
                let status: FileStatus
                do {
                    let opened = try File.openForReading(path: path)
                    status = try FileStatus.of(opened)
                    guard status.kind == .file, UInt64(max(status.size, 0)) <= UInt64(ChunkGrid.size) else {
                        report(file, .retry)
                        counts.retried += 1
                        continue
                    }
                    var buffer = [UInt8](repeating: 0, count: Int(status.size))
                    let count = try buffer.withUnsafeMutableBytes { try File.read(opened, into: $0, at: 0) }
                    guard count == buffer.count else { throw ClientError("the file shrank while it was read") }
                    bytes = buffer
                } catch {
                    report(file, .failed("cannot read: \(ClientSession.describe(error))"))
                    continue
                }
                let digests = bytes.isEmpty ? [] : [Digest.hash(.sha256, bytes)]
                let contentHash = ContentHash.of(digests).hexString
                let upload = UploadRequest(path: RemoteTree.join(remote, file.relativePath), size: UInt64(bytes.count),
                                           mtime: preserve ? status.modificationTime : nil)
                var messages: [Message] = [.upload(upload)]
                if let digest = digests.first { messages.append(.chunk(ChunkHeader(index: 0, size: bytes.count, sha256: digest.hexString))) }
                try channel.send(messages, timeout: timeout)
                try bytes.withUnsafeBytes { try channel.sendBody($0, timeout: timeout) }
                try channel.send(.commit(CommitRequest(contentHash: contentHash, last: true)), timeout: timeout)
                inFlight.append((file, status, contentHash))
                inFlightBytes += UInt64(bytes.count)
                while inFlight.count >= Self.uploadWindow.files || inFlightBytes >= Self.uploadWindow.bytes {
                    try settleOne()
                }
            }
            while !inFlight.isEmpty { try settleOne() }
        } catch let error as ClientError {
            throw error
        } catch {
            channel.socket.close()
            throw ClientError(translating: error)
        }
        return counts
    }

    /// The answer to one pipelined upload: an `error` alone (refused), or `partial` pages and then
    /// `stored` or an `error`.
    private func readPipelinedAnswer() throws(ClientError) -> PipelinedOutcome {
        var message: Message
        do { message = try channel.receive(timeout: timeout) } catch { throw ClientError(translating: error) }
        if case .error(let refusal) = message {
            return refusal.code == .busy ? .retry : .failed(refusal.message)
        }
        while case .partial(let page) = message {
            if !page.more { break }
            do { message = try channel.receive(timeout: timeout) } catch { throw ClientError(translating: error) }
        }
        guard case .partial = message else { throw unexpected(message) }
        do { message = try channel.receive(timeout: timeout) } catch { throw ClientError(translating: error) }
        switch message {
        case .stored: return .stored
        case .error(let reply) where reply.code == .checksumMismatch: return .retry
        case .error(let reply): return .failed(reply.message)
        default: throw unexpected(message)
        }
    }
}

/// Everything under a local directory, found without following symlinks: the plan of a recursive put.
struct LocalWalk {
    struct File {
        let relativePath: String
        let size: UInt64
    }
    /// Subdirectories, parents before children.
    var directories: [String] = []
    var files: [File] = []
    /// Symlinks and special files, left out.
    var skipped: [String] = []

    static func walk(_ path: String) throws(ClientError) -> LocalWalk {
        var walk = LocalWalk()
        let root: Descriptor
        do {
            root = try FerryPosix.File.openDirectory(path: path)
        } catch {
            throw ClientError("\(path): \(error.reason)")
        }
        // Directories wait as paths, not descriptors: a wide tree must not run out of them.
        var queue = [""]
        var next = 0
        while next < queue.count {
            let relative = queue[next]
            next += 1
            let directory: Descriptor
            do { directory = relative.isEmpty ? root : try FerryPosix.File.openDirectory(path: LocalTree.join(path, relative)) } catch {
                throw ClientError("\(LocalTree.join(path, relative)): \(error.reason)")
            }
            let stream: DirectoryStream
            do { stream = try DirectoryStream(directory) } catch {
                throw ClientError("\(LocalTree.join(path, relative)): \(error.reason)")
            }
            var names: [String] = []
            while let name = try? stream.next() { names.append(name) }
            for name in names.sorted() {
                let child = RemoteTree.join(relative, name)
                guard let status = try? FileStatus.of(name, in: directory) else { continue }
                switch status.kind {
                case .file: walk.files.append(File(relativePath: child, size: UInt64(max(status.size, 0))))
                case .directory:
                    walk.directories.append(child)
                    queue.append(child)
                default: walk.skipped.append(child)
                }
            }
        }
        return walk
    }
}

extension LocalTree {
    /// `base/relative` as a local path.
    static func join(_ base: String, _ relative: String) -> String {
        relative.isEmpty ? base : (base.hasSuffix("/") ? base + relative : base + "/" + relative)
    }
}
