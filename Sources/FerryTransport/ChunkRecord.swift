import FerryPosix
import FerryWire

/// The record kept beside a partial file of which chunks it holds: a hidden sidecar file that a later
/// attempt reads to resume. It is only a hint: whatever it claims is hashed again before it is trusted.
///
/// Layout (little-endian): 8 bytes "FERRYCR1", the file's size (8 bytes), the content hash the chunks
/// belong to (32 bytes, zeros when not known yet), 16 zero bytes; then one 32-byte slot per chunk,
/// holding that chunk's SHA-256 once it was written and verified, zeros until then.
public final class ChunkRecord {
    static let magic = Array("FERRYCR1".utf8)
    static let headerSize = 64
    static let slotSize = 32

    let file: Descriptor
    /// The size of the file the chunks belong to.
    public let size: UInt64
    /// The content hash the chunks belong to, nil when it was not known at the start (uploads).
    public let contentHash: [UInt8]?

    private init(file: Descriptor, size: UInt64, contentHash: [UInt8]?) {
        self.file = file
        self.size = size
        self.contentHash = contentHash
    }

    /// Starts a new, empty record, replacing any old one of that name.
    public static func create(_ name: String, in directory: Descriptor, size: UInt64, contentHash: [UInt8]?) throws(PosixError) -> ChunkRecord {
        let file = try File.openForUpdate(name, in: directory, create: true, truncate: true)
        var header = magic
        withUnsafeBytes(of: size.littleEndian) { header += $0 }
        header += contentHash ?? [UInt8](repeating: 0, count: 32)
        header += [UInt8](repeating: 0, count: headerSize - header.count)
        try File.write(file, header, at: 0)
        try File.truncate(file, length: Int64(headerSize + slotSize * ChunkGrid.count(for: size)))
        return ChunkRecord(file: file, size: size, contentHash: contentHash)
    }

    /// The record of that name, or nil when there is none or it is not a record.
    public static func open(_ name: String, in directory: Descriptor) -> ChunkRecord? {
        guard let file = try? File.openForUpdate(name, in: directory, create: false) else { return nil }
        var header = [UInt8](repeating: 0, count: headerSize)
        let count = header.withUnsafeMutableBytes { (try? File.read(file, into: $0, at: 0)) ?? 0 }
        guard count == headerSize, Array(header[0..<8]) == magic else { return nil }
        let size = header[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let hash = Array(header[16..<48])
        return ChunkRecord(file: file, size: size, contentHash: hash.allSatisfy { $0 == 0 } ? nil : hash)
    }

    /// The chunks the record claims, with the digest each was verified against.
    public func claimed() -> [(index: Int, digest: [UInt8])] {
        let count = ChunkGrid.count(for: size)
        var slots = [UInt8](repeating: 0, count: count * Self.slotSize)
        let read = slots.withUnsafeMutableBytes { (try? File.read(file, into: $0, at: Int64(Self.headerSize))) ?? 0 }
        var claims: [(Int, [UInt8])] = []
        for index in 0..<min(count, read / Self.slotSize) {
            let slot = Array(slots[(index * Self.slotSize)..<((index + 1) * Self.slotSize)])
            if slot.contains(where: { $0 != 0 }) { claims.append((index, slot)) }
        }
        return claims
    }

    /// Records that chunk `index`, with this digest, was written and verified.
    public func record(_ index: Int, digest: [UInt8]) throws(PosixError) {
        try File.write(file, digest, at: Int64(Self.headerSize + index * Self.slotSize))
    }

    /// Forgets chunk `index` (it failed a later check).
    public func forget(_ index: Int) throws(PosixError) {
        try record(index, digest: [UInt8](repeating: 0, count: Self.slotSize))
    }
}
