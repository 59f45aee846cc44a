import FerryPosix

/// Verified downloads of a recursive get, waiting to be renamed into place together.
///
/// An fsync per file costs one journal commit per file, which dominates the fetch of many small files.
/// Here one syncfs(2) makes a whole batch of temporary files durable before any of them is renamed, so
/// a file is never visible under its final name before its bytes are on disk, as with a single get.
/// The renames of a batch become durable with the next batch's syncfs, and those of the last batch
/// with ``finish()``: n batches cost n + 1 syncfs calls. syncfs also flushes whatever else is waiting
/// on that file system, which is why batches are bounded.
final class CommitBatch {
    private var files: [IncomingFile] = []
    private var directories: Set<ObjectIdentifier> = []
    /// One open directory on each file system the waiting files are on, for syncfs.
    private var fileSystems: [UInt64: Descriptor] = [:]
    /// The same for renames made but not yet synced.
    private var renamed: [UInt64: Descriptor] = [:]
    private(set) var bytes: UInt64 = 0

    /// Commit when this many files wait, or this many bytes, or files in this many directories (each
    /// waiting file keeps its directory open).
    static let maximumFiles = 1024
    static let maximumBytes: UInt64 = 64 << 20
    static let maximumDirectories = 64
    /// A body at least this large is preceded by a commit of what waits.
    static let largeBody: UInt64 = 8 << 20

    var count: Int { files.count }

    var isFull: Bool {
        files.count >= Self.maximumFiles || bytes >= Self.maximumBytes || directories.count >= Self.maximumDirectories
    }

    /// Adds a verified download; its descriptor is closed now.
    func add(_ file: IncomingFile, size: UInt64) {
        file.close()
        files.append(file)
        if directories.insert(ObjectIdentifier(file.directory)).inserted {
            let device = (try? FileStatus.of(file.directory))?.device ?? 0
            if fileSystems[device] == nil { fileSystems[device] = file.directory }
        }
        bytes += size
    }

    /// Syncs (the waiting files, and the previous batch's renames), then renames every waiting file
    /// into place. Returns the files that could not be renamed, each with why; throws if the sync
    /// fails, in which case no file of the batch is renamed (their temporary files are removed when
    /// the batch is dropped).
    func commit() throws(ClientError) -> [(path: String, error: ClientError)] {
        defer {
            files.removeAll()
            directories.removeAll()
            fileSystems.removeAll()
            bytes = 0
        }
        do {
            for directory in fileSystems.merging(renamed, uniquingKeysWith: { first, _ in first }).values {
                try File.syncFileSystem(directory)
            }
        } catch {
            throw ClientError("cannot make downloads durable: \(error.reason); nothing of this batch was saved")
        }
        renamed = fileSystems
        var failures: [(path: String, error: ClientError)] = []
        for file in files {
            do { try file.commit(syncing: false) } catch { failures.append((file.path, error)) }
        }
        return failures
    }

    /// Makes the last renames durable.
    func finish() throws(ClientError) {
        defer { renamed.removeAll() }
        do {
            for directory in renamed.values { try File.syncFileSystem(directory) }
        } catch {
            throw ClientError("cannot make the last renames durable: \(error.reason)")
        }
    }
}
