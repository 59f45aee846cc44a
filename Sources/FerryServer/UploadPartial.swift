import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire
import Foundation

/// The verified chunks of an upload that has not been committed yet, kept so that the same upload can
/// resume after a cut: a hidden file of the upload's full size (holes where chunks are missing) and its
/// ``ChunkRecord``, beside the final name. Both names start with ``TemporaryFile/resumablePrefix``, so
/// no client can name, list or fetch them.
///
/// An upload is the same one when the user, the path and the size are: the key of the names. The
/// client learns which chunks are held and their digests, and sends each chunk its own file does not
/// match, so a partial from another version of the file only ever contributes chunks equal to the new
/// one's. While an upload runs it holds an exclusive lock on the data file; a second upload of the same
/// key is refused as `busy`.
final class UploadPartial {
    let directory: Descriptor
    let dataName: String
    let recordName: String
    let size: UInt64
    let file: Descriptor
    let record: ChunkRecord
    /// True when chunks of an earlier attempt were on disk (whether or not they check out).
    let resumed: Bool

    /// The names of the partial of `user`'s upload of `size` bytes to `path`: data and record.
    static func names(user: String, path: SharePath, size: UInt64) -> (data: String, record: String) {
        let key = Digest.hash(.sha256, Array("\(user)\0\(path.description)\0\(size)".utf8)).hexString.prefix(32)
        return (TemporaryFile.resumablePrefix + key + ".part", TemporaryFile.resumablePrefix + key + ".chunks")
    }

    /// Whether an earlier attempt of that upload left a partial to resume.
    static func exists(user: String, path: SharePath, size: UInt64, in directory: Descriptor) -> Bool {
        let (data, record) = names(user: user, path: path, size: size)
        guard let status = try? FileStatus.of(data, in: directory), status.kind == .file, UInt64(max(status.size, 0)) == size else { return false }
        return ChunkRecord.open(record, in: directory)?.size == size
    }

    /// Opens (or starts) the partial of `user`'s upload of `size` bytes to `path`, in `directory`.
    init(user: String, path: SharePath, size: UInt64, in directory: Descriptor) throws {
        (dataName, recordName) = Self.names(user: user, path: path, size: size)
        self.directory = directory
        self.size = size
        do {
            file = try File.openForUpdate(dataName, in: directory, create: true, mode: 0o644)
            guard try File.tryLock(file) else {
                throw ErrorReply(.busy, "another upload of this file to this path is in progress")
            }
            if let existing = ChunkRecord.open(recordName, in: directory), existing.size == size,
               UInt64(max(try FileStatus.of(file).size, 0)) == size {
                record = existing
                resumed = true
            } else {
                try File.truncate(file, length: 0)
                try File.truncate(file, length: Int64(size))
                record = try ChunkRecord.create(recordName, in: directory, size: size, contentHash: nil)
                resumed = false
            }
        } catch let error as PosixError {
            throw ErrorReply(posix: error)
        }
    }

    /// The chunks the record says earlier attempts verified, with their digests. Not to be trusted
    /// before they are hashed again (a crash may have lost bytes the record claims): ``ChunkCheck``.
    func claimedChunks() -> [Int: [UInt8]] {
        Dictionary(record.claimed().map { ($0.index, $0.digest) }, uniquingKeysWith: { first, _ in first })
    }

    /// Renames the data into place under `name` and removes the record.
    func commit(as name: String) throws(PosixError) {
        try File.rename(dataName, to: name, in: directory)
        try? File.remove(recordName, in: directory)
    }

    /// True once ``discard()`` removed the partial.
    private(set) var discarded = false

    /// Removes data and record: the upload cannot go on from them.
    func discard() {
        discarded = true
        try? File.remove(dataName, in: directory)
        try? File.remove(recordName, in: directory)
    }
}
