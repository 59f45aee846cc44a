import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

/// The part of a download already on disk, kept beside the destination so that running the same get
/// again resumes it: `.NAME.ferrypart` holds the data at its place in the file (holes where chunks are
/// missing) and `.NAME.ferrypart.chunks` the ``ChunkRecord`` of the chunks verified and the content
/// hash they belong to. Nothing here is trusted without hashing it again against the server's manifest.
/// While a download runs it holds a lock on the data file, so two ferry processes never write one partial.
final class DownloadPartial {
    let directory: Descriptor
    let directoryPath: String
    let dataName: String
    let recordName: String
    private(set) var file: Descriptor?
    private(set) var record: ChunkRecord?

    var dataPath: String { directoryPath + "/" + dataName }

    init(name: String, in directory: Descriptor, directoryPath: String) {
        self.directory = directory
        self.directoryPath = directoryPath
        // Room for the suffixes within a file name's 255 bytes.
        let base = name.utf8.count <= 200 ? name : String(decoding: name.utf8.prefix(180), as: UTF8.self) + "-" + Digest.hash(.sha256, Array(name.utf8)).hexString.prefix(8)
        dataName = "." + base + ".ferrypart"
        recordName = dataName + ".chunks"
    }

    /// The record of an earlier attempt, when both its files are there; the data file is then open and locked.
    func existing() throws(ClientError) -> ChunkRecord? {
        guard let record = ChunkRecord.open(recordName, in: directory), record.contentHash != nil,
              let file = try? File.openForUpdate(dataName, in: directory, create: false) else { return nil }
        try lock(file)
        self.file = file
        self.record = record
        return record
    }

    /// Starts afresh for a file with this manifest, replacing any earlier partial.
    func start(_ manifest: RemoteManifest) throws(ClientError) {
        do {
            let file: Descriptor
            if let open = self.file {
                file = open // the earlier attempt's, already locked by us
            } else {
                // The file it becomes: readable as any other download (0644 before the umask).
                file = try File.openForUpdate(dataName, in: directory, create: true, mode: 0o644)
                try lock(file)
            }
            try File.truncate(file, length: 0)
            try File.truncate(file, length: Int64(manifest.size))
            record = try ChunkRecord.create(recordName, in: directory, size: manifest.size, contentHash: [UInt8](hexString: manifest.contentHash))
            self.file = file
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError("cannot write in \(directoryPath): \(ClientSession.describe(error))")
        }
    }

    private func lock(_ file: Descriptor) throws(ClientError) {
        guard (try? File.tryLock(file)) == true else {
            throw ClientError("another ferry is downloading to \(dataPath) right now")
        }
    }

    /// The chunks the record claims with the manifest's digest. Not to be trusted before they are
    /// hashed again (``ChunkCheck``): the disk may have damaged them since.
    func claimedChunks(of manifest: RemoteManifest) -> [Int: [UInt8]] {
        guard let record else { return [:] }
        let claims = record.claimed().filter { $0.index < manifest.chunks.count && $0.digest == manifest.chunks[$0.index] }
        return Dictionary(claims.map { ($0.index, $0.digest) }, uniquingKeysWith: { first, _ in first })
    }

    /// Makes the data durable and renames it to `name`, then drops the record.
    func commit(as name: String) throws(ClientError) {
        guard let file else { preconditionFailure("commit before start") }
        do {
            try File.sync(file)
            try File.rename(dataName, to: name, in: directory)
        } catch {
            throw ClientError("cannot save \(directoryPath)/\(name): \(error.reason)")
        }
        try? File.remove(recordName, in: directory)
        self.file = nil
        record = nil
    }

    /// Removes both files.
    func discard() {
        try? File.remove(dataName, in: directory)
        try? File.remove(recordName, in: directory)
        file = nil
        record = nil
    }
}
