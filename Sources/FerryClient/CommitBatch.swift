import FerryPosix

/// Verified downloads of a recursive get, waiting to be renamed into place together.
///
/// An fsync per file costs one journal commit per file, which dominates the fetch of many small files.
/// A batch pays for two: syncfs(2) makes every temporary file durable, the renames follow, and a
/// second syncfs makes the renames durable. A file is therefore never visible under its final name
/// before its bytes are on disk, as with a single get. syncfs also flushes whatever else is waiting
/// on that file system, which is why batches are bounded.
final class CommitBatch {
    private var files: [IncomingFile] = []
    private var directories: Set<ObjectIdentifier> = []
    /// One open directory on each file system the batch writes to, for syncfs.
    private var fileSystems: [UInt64: Descriptor] = [:]
    private(set) var bytes: UInt64 = 0

    /// Commit when this many files wait, or this many bytes, or files in this many directories (each
    /// waiting file keeps its directory open).
    static let maximumFiles = 256
    static let maximumBytes: UInt64 = 64 << 20
    static let maximumDirectories = 64

    var count: Int { files.count }

    /// The path reported for a failure that concerns the whole batch rather than one file.
    static let wholeBatch = "(downloads)"

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

    /// Syncs, renames and syncs again. Returns the files that could not be renamed, each with why;
    /// throws if the sync itself fails, in which case no file of the batch is renamed (their
    /// temporary files are removed when the batch is dropped).
    func commit() throws(ClientError) -> [(path: String, error: ClientError)] {
        defer {
            files.removeAll()
            directories.removeAll()
            fileSystems.removeAll()
            bytes = 0
        }
        do {
            for directory in fileSystems.values { try File.syncFileSystem(directory) }
        } catch {
            throw ClientError("cannot make downloads durable: \(error.reason); nothing of this batch was saved")
        }
        var failures: [(path: String, error: ClientError)] = []
        for file in files {
            do { try file.commit(syncing: false) } catch { failures.append((file.path, error)) }
        }
        for directory in fileSystems.values {
            do { try File.syncFileSystem(directory) } catch {
                failures.append((Self.wholeBatch, ClientError("cannot make the renames durable: \(error.reason)")))
            }
        }
        return failures
    }
}
