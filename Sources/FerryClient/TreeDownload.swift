import FerryPosix

/// The local side of one recursive get: where each file goes, what was saved, what failed.
final class TreeDownload {
    let remote: String
    let root: LocalTree
    private let batch = CommitBatch()
    private(set) var failures: [String] = []
    /// Files renamed into place, and their bytes (counted when received and verified).
    private(set) var saved = 0
    private(set) var savedBytes: UInt64 = 0

    init(remote: String, root: LocalTree) {
        self.remote = remote
        self.root = root
    }

    /// Records what the listing could not give.
    func report(_ tree: RemoteTree) {
        failures += tree.truncated.map { "\(root.display($0)): the server's listing was cut short; only part of it was fetched" }
        failures += tree.unusableNames.map {
            "\(root.display($0.directory)): the server listed an entry named \($0.name.debugDescription), which cannot be a file name; left out"
        }
    }

    /// Creates the tree's directories, parents first; returns the files whose directory exists.
    func makeDirectories(_ tree: RemoteTree) -> [RemoteTree.File] {
        var unusable: Set<String> = []
        for directory in tree.directories {
            if unusable.contains(Self.parent(of: directory)) {
                unusable.insert(directory)
                continue
            }
            do { _ = try root.directory(directory, create: true) } catch {
                failures.append(error.message)
                unusable.insert(directory)
            }
        }
        return tree.files.filter { !unusable.contains(Self.parent(of: $0.relativePath)) }
    }

    func fail(_ relative: String, _ why: String) {
        failures.append("\(root.display(relative)): \(why)")
    }

    /// Gives the verified download of `relative` the server's modification time and mode (`get -r -p`;
    /// nothing without `attributes`). False, with the failure recorded, when they cannot be set.
    func preserve(_ attributes: PreservedAttributes?, on file: Descriptor, _ relative: String) -> Bool {
        guard let attributes else { return true }
        do { try attributes.apply(to: file, path: root.display(relative)) } catch {
            failures.append(error.message)
            return false
        }
        return true
    }

    /// The temporary file for `relative`.
    func create(_ relative: String) -> Result<IncomingFile, ClientError> {
        let parent = Self.parent(of: relative)
        do {
            let directory = try root.directory(parent)
            return .success(try IncomingFile(name: Self.name(of: relative), in: directory, directoryPath: root.display(parent)))
        } catch let error as ClientError {
            return .failure(error)
        } catch {
            return .failure(ClientError("cannot write in \(root.display(parent)): \(ClientSession.describe(error))"))
        }
    }

    /// Queues a verified file for the next batch commit, committing when the batch is full.
    func add(_ file: IncomingFile, size: UInt64) throws(ClientError) {
        batch.add(file, size: size)
        savedBytes += size
        if batch.isFull { try commit() }
    }

    /// A file renamed into place by its own commit (a large one, through its resumable partial).
    func savedDirectly(size: UInt64) {
        saved += 1
        savedBytes += size
    }

    /// Commits the files waiting; throws only when none of them could be made durable.
    func commit() throws(ClientError) {
        let pending = batch.count
        let batchFailures = try batch.commit()
        saved += pending - batchFailures.count
        failures += batchFailures.map { "\($0.path): \($0.error.message)" }
    }

    /// Commits the last batch and makes its renames durable.
    func finish() throws(ClientError) {
        try commit()
        try batch.finish()
    }

    static func parent(of relative: String) -> String {
        guard let slash = relative.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(relative[..<slash])
    }

    static func name(of relative: String) -> String {
        guard let slash = relative.utf8.lastIndex(of: UInt8(ascii: "/")) else { return relative }
        return String(relative[relative.utf8.index(after: slash)...])
    }
}
