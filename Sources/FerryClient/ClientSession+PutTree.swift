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
        guard chunked, hello.offers(Hello.mkdirFeature) else {
            throw ClientError("this server cannot take a directory (an older ferryd without chunks and mkdir)", code: .unsupported)
        }
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
        for file in tree.files where made.contains(TreeDownload.parent(of: file.relativePath)) {
            if let there = remoteFiles[file.relativePath], there.size == file.size, let hash = there.contentHash,
               let opened = try? File.openForReading(path: LocalTree.join(local, file.relativePath)),
               (try? digests.digests(of: opened))?.contentHash == hash {
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
        for (index, file) in toSend.enumerated() {
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
            progress?.relabel(label(index + 1))
        }
        let seconds = started.secondsElapsed
        progress?.finish(name: label(toSend.count), bytes: moved, seconds: seconds, check: "SHA-256 verified")
        return UploadTreeResult(files: stored, bytes: moved, seconds: seconds, path: remote, unchanged: unchanged,
                                failures: failures, skipped: tree.skipped.map { LocalTree.join(local, $0) })
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
