import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire
import Synchronization

/// A file's digests on the chunk grid: one SHA-256 per chunk, the content hash over them, and the MD5
/// of the whole file when it has been computed.
public struct Manifest: Sendable, Equatable {
    public let size: UInt64
    public let chunks: [[UInt8]]
    public let contentHash: [UInt8]
    public var md5: [UInt8]?

    public init(size: UInt64, chunks: [[UInt8]], md5: [UInt8]?) {
        self.size = size
        self.chunks = chunks
        contentHash = ContentHash.of(chunks)
        self.md5 = md5
    }
}

/// Where ferryd keeps the manifests it has computed, so that a file is hashed once, not once per get.
///
/// Each is keyed by what changes when a file does: device, inode, size and modification time to the
/// nanosecond. It is kept in memory, and in the file's extended attribute `user.ferry.manifest`, which
/// survives restarts and travels with the file. An attribute holds the chunk digests itself for files
/// of up to ``inlineChunks`` chunks; for larger ones (ext4 gives all of a file's attributes one 4 KiB
/// block) it holds the content hash, and the digests go to the cache directory in a file named after
/// the content hash, which checks them when they are read back. Where attributes cannot be written
/// (another file system, a file not ours), the memory holds it until ferryd stops.
public final class ManifestStore: Sendable {
    static let attribute = "user.ferry.manifest"
    static let magic = Array("FERRYMF1".utf8)
    /// Chunks whose digests fit in the attribute (2 KiB of digests, 256 MiB of file).
    static let inlineChunks = 64
    /// Chunk digests kept in memory at most (32 bytes each): past it the memory starts over.
    static let memoryDigests = 1 << 20

    private let memory = Mutex<(entries: [FileVersion: Manifest], digests: Int)>(([:], 0))
    private let cacheDirectory: Descriptor?

    /// - Parameter cacheDirectory: where the digests of large files go; nil keeps them in memory only.
    public init(cacheDirectory: Descriptor?) {
        self.cacheDirectory = cacheDirectory
    }

    /// The manifest of a file in this state if it is known, without reading the file.
    public func cached(_ file: Descriptor, status: FileStatus) -> Manifest? {
        let key = FileVersion(status)
        if let manifest = memory.withLock({ $0.entries[key] }) { return manifest }
        guard let manifest = readAttribute(file, status: status) else { return nil }
        remember(manifest, key: key)
        return manifest
    }

    /// The manifest of the regular file `name` in `directory` (in state `status`) if it is known: from
    /// memory, else from its attribute. Never hashes, so a listing stays as fast as a directory read.
    public func cached(_ name: String, in directory: Descriptor, status: FileStatus) -> Manifest? {
        guard status.kind == .file else { return nil }
        if let manifest = memory.withLock({ $0.entries[FileVersion(status)] }) { return manifest }
        guard let file = try? File.openForReading(name, in: directory) else { return nil }
        return cached(file, status: status)
    }

    /// The manifest of `file`, computed in one pass over it when not known (and then kept), with the MD5
    /// too when `md5` is set. `progress` hears the bytes hashed about once a second. A file that changes
    /// while it is hashed is hashed once more; if it changes again, `file_changed` is thrown.
    public func manifest(_ file: Descriptor, status: FileStatus, md5: Bool, progress: (UInt64) throws -> Void) throws -> Manifest {
        var status = status
        var known = cached(file, status: status)
        if let known, known.md5 != nil || !md5 { return known }
        for _ in 0..<2 {
            let size = UInt64(max(status.size, 0))
            let manifest: Manifest
            if let chunks = known?.chunks, md5 {
                // Only the MD5 is missing.
                manifest = Manifest(size: size, chunks: chunks, md5: try FileHasher.md5(of: file, size: size, progress: progress))
            } else {
                let result = try FileHasher.hash(file, size: size, md5: md5, progress: progress)
                manifest = Manifest(size: size, chunks: result.digests, md5: result.md5)
            }
            let after = try FileStatus.of(file)
            if after == status {
                store(manifest, for: file, status: status)
                return manifest
            }
            status = after
            known = nil
        }
        throw ErrorReply(.fileChanged, "the file keeps changing while it is hashed; try again later")
    }

    /// Keeps `manifest` for `file` in this state: in memory, and in its attribute when it can be set.
    public func store(_ manifest: Manifest, for file: Descriptor, status: FileStatus) {
        remember(manifest, key: FileVersion(status))
        writeAttribute(manifest, to: file, status: status)
    }

    /// Forgets the manifest kept in memory for a file in this state: it was removed, or a new file took
    /// its place (with the inode of a removed one, and a preserved modification time). The attribute
    /// needs no forgetting: it goes with its file, and a new file starts without one.
    public func forget(_ status: FileStatus) {
        memory.withLock { memory in
            if let old = memory.entries.removeValue(forKey: FileVersion(status)) { memory.digests -= old.chunks.count }
        }
    }

    private func remember(_ manifest: Manifest, key: FileVersion) {
        memory.withLock { memory in
            if memory.digests + manifest.chunks.count > Self.memoryDigests {
                memory.entries.removeAll(keepingCapacity: true)
                memory.digests = 0
            }
            if let old = memory.entries.updateValue(manifest, forKey: key) { memory.digests -= old.chunks.count }
            memory.digests += manifest.chunks.count
        }
    }

    // MARK: the attribute

    // Layout: "FERRYMF1", size, mtime seconds, mtime nanoseconds (8 bytes each, little-endian), one
    // byte 1 if an MD5 follows, the MD5 (16 bytes, zeros if none), the content hash (32 bytes), then
    // either every chunk digest (inline) or none (they are in the cache directory).

    private func writeAttribute(_ manifest: Manifest, to file: Descriptor, status: FileStatus) {
        var value = Self.magic
        for field in [UInt64(manifest.size), UInt64(bitPattern: status.modificationTime), UInt64(bitPattern: status.modificationNanoseconds)] {
            withUnsafeBytes(of: field.littleEndian) { value += $0 }
        }
        value.append(manifest.md5 == nil ? 0 : 1)
        value += manifest.md5 ?? [UInt8](repeating: 0, count: 16)
        value += manifest.contentHash
        if manifest.chunks.count <= Self.inlineChunks {
            for digest in manifest.chunks { value += digest }
        } else {
            guard let cacheDirectory else { return }
            let name = manifest.contentHash.hexString
            if (try? FileStatus.of(name, in: cacheDirectory)) == nil {
                guard (try? Self.writeCacheFile(manifest.chunks.flatMap { $0 }, name: name, in: cacheDirectory)) != nil else { return }
            }
        }
        try? File.setAttribute(file, Self.attribute, value)
    }

    private static func writeCacheFile(_ bytes: [UInt8], name: String, in directory: Descriptor) throws(PosixError) {
        let temporary = "." + name + "." + SecureRandom.bytes(6).hexString
        let file = try File.createExclusive(temporary, in: directory)
        do throws(PosixError) {
            try File.write(file, bytes, at: 0)
            try File.rename(temporary, to: name, in: directory)
        } catch {
            try? File.remove(temporary, in: directory)
            throw error
        }
    }

    private func readAttribute(_ file: Descriptor, status: FileStatus) -> Manifest? {
        guard let value = File.attribute(file, Self.attribute), value.count >= 81, Array(value[0..<8]) == Self.magic else { return nil }
        func field(_ at: Int) -> UInt64 { value[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        guard field(8) == UInt64(max(status.size, 0)),
              Int64(bitPattern: field(16)) == status.modificationTime,
              Int64(bitPattern: field(24)) == status.modificationNanoseconds else { return nil }
        let size = field(8)
        let md5 = value[32] == 1 ? Array(value[33..<49]) : nil
        let contentHash = Array(value[49..<81])
        let count = ChunkGrid.count(for: size)
        var digests: [UInt8]
        if count <= Self.inlineChunks {
            guard value.count == 81 + 32 * count else { return nil }
            digests = Array(value[81...])
        } else {
            guard let cacheDirectory, let cached = Self.readCacheFile(contentHash.hexString, in: cacheDirectory, count: count) else { return nil }
            digests = cached
        }
        let chunks = stride(from: 0, to: digests.count, by: 32).map { Array(digests[$0..<($0 + 32)]) }
        let manifest = Manifest(size: size, chunks: chunks, md5: md5)
        // The digests must be the ones the content hash names: a damaged cache file is not trusted.
        return manifest.contentHash == contentHash ? manifest : nil
    }

    private static func readCacheFile(_ name: String, in directory: Descriptor, count: Int) -> [UInt8]? {
        guard let file = try? File.openForReading(name, in: directory) else { return nil }
        var bytes = [UInt8](repeating: 0, count: count * 32)
        let read = bytes.withUnsafeMutableBytes { (try? File.read(file, into: $0, at: 0)) ?? 0 }
        return read == bytes.count ? bytes : nil
    }
}
