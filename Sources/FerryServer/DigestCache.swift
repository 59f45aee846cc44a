import FerryCrypto
import FerryPosix
import Synchronization

/// Remembers the MD5 of files already hashed, keyed by what changes when a file does: device, inode,
/// size and modification time to the nanosecond. A second get of an unchanged file does not read it twice.
public final class DigestCache: Sendable {
    typealias Key = FileVersion

    private let entries = Mutex<[Key: String]>([:])
    /// Entries kept at most; past it the cache starts over.
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    /// The cached MD5 (lowercase hex) for a file in this state, if any.
    public func lookup(_ status: FileStatus) -> String? {
        entries.withLock { $0[Key(status)] }
    }

    /// Records the MD5 of a file in this state.
    public func store(_ md5: String, for status: FileStatus) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[Key(status)] = md5
        }
    }

    /// Forgets what is known of a file in this state: it was removed, or a new file took its place
    /// (a file system may give a new file the inode of a removed one, and a preserved modification
    /// time makes the rest of the key equal too).
    public func forget(_ status: FileStatus) {
        _ = entries.withLock { $0.removeValue(forKey: Key(status)) }
    }

    /// The MD5 of `file`, from the cache or by reading it through `buffer`, calling `progress` with the
    /// bytes hashed so far after each chunk when it has to read.
    ///
    /// A file that changes while it is read is not cached: its size or time will differ afterwards.
    public func md5(
        of file: Descriptor, status: FileStatus, buffer: UnsafeMutableRawBufferPointer,
        progress: (UInt64) throws -> Void = { _ in }
    ) throws -> String {
        if let cached = lookup(status) { return cached }
        let digest = Digest(.md5)
        var offset: Int64 = 0
        while offset < status.size {
            let count = try File.read(file, into: buffer, at: offset)
            if count == 0 { break }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            offset += Int64(count)
            try progress(UInt64(offset))
        }
        let md5 = digest.finalize().hexString
        if let after = try? FileStatus.of(file), after == status, offset == status.size {
            store(md5, for: status)
        }
        return md5
    }
}
