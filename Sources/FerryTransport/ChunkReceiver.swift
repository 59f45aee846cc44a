import FerryCrypto
import FerryPosix
import FerryWire

/// Receives chunk bodies, each announced by a `chunk` header, into a file at their place on the grid,
/// and verifies each against its expected SHA-256 on a second thread while the next one arrives. A
/// verified chunk is entered in the ``ChunkRecord``, if there is one; a chunk that fails is listed in
/// the outcome and its bytes are never counted as held.
///
/// Memory is the pipeline's few buffers of the channel's read size, whatever the chunk or file size.
public final class ChunkReceiver {
    /// What came of the chunks received.
    public struct Outcome {
        /// The chunks whose bytes matched, with their digests.
        public let verified: [Int: [UInt8]]
        /// The chunks whose bytes did not match the digest expected (ascending): whatever a file held
        /// there before is overwritten.
        public let mismatched: [Int]
        /// The first write error; after it, bodies are still read (the stream stays in step) but nothing counts as verified.
        public let writeError: PosixError?
    }

    /// Filled on the hashing thread, read after ``DigestPipeline/finish()`` has joined it. A chunk
    /// received twice is judged by its last copy, which is what the file holds.
    private final class Verdicts {
        var verified: [Int: [UInt8]] = [:]
        var mismatched: Set<Int> = []
    }

    private let file: Descriptor
    private let size: UInt64
    private let record: ChunkRecord?
    private let bufferSize: Int
    /// Started by the first chunk larger than one read: a small file's only chunk is hashed right
    /// here, with no thread to start (a tree of small files would start one per file).
    private var pipeline: DigestPipeline?
    private var smallBuffer: UnsafeMutableRawBufferPointer?
    private let verdicts = Verdicts()
    private var writeback: Writeback
    private var writeError: PosixError?
    private var finished = false

    /// - Parameters:
    ///   - file: the partial file, open for writing at any offset.
    ///   - size: the whole file's size, which fixes the grid.
    ///   - bufferSize: bytes per read from the connection.
    public init(file: Descriptor, size: UInt64, bufferSize: Int, record: ChunkRecord?) {
        self.file = file
        self.size = size
        self.record = record
        self.bufferSize = bufferSize
        writeback = Writeback(file: file)
    }

    deinit {
        if !finished { pipeline?.finish() }
        smallBuffer?.deallocate()
    }

    /// Checks that `header` names a chunk of this file with the grid's length for it.
    public func validate(_ header: ChunkHeader) throws(WireError) {
        let count = ChunkGrid.count(for: size)
        guard header.index >= 0, header.index < count else {
            throw WireError.malformedMessage("chunk \(header.index) is out of range (the file has \(count) chunks)")
        }
        let length = ChunkGrid.length(of: header.index, fileSize: size)
        guard header.size == length else {
            throw WireError.malformedMessage("chunk \(header.index) must be \(length) bytes, not \(header.size)")
        }
    }

    /// Reads the body that follows `header` (already validated) from `channel`, writes it at its offset,
    /// and has it compared with `expected`, calling `progress` with each piece's byte count. Throws only
    /// for connection failures.
    public func receive(_ header: ChunkHeader, expected: [UInt8], from channel: MessageChannel, timeout: Duration?,
                        progress: (Int) -> Void = { _ in }) throws {
        if pipeline == nil && header.size <= bufferSize {
            return try receiveSmall(header, expected: expected, from: channel, timeout: timeout, progress: progress)
        }
        if pipeline == nil { pipeline = DigestPipeline(bufferSize: bufferSize) }
        guard let pipeline else { return }
        let digest = Digest(.sha256)
        let verdicts = verdicts
        let record = record
        var offset = Int64(ChunkGrid.offset(of: header.index))
        var left = UInt64(header.size)
        channel.beginBody()
        while left > 0 {
            let (slot, buffer) = pipeline.acquire()
            let count: Int
            do {
                count = try channel.readBody(into: buffer, remaining: left, timeout: timeout)
                if count == 0 { throw WireError.truncated(expected: UInt64(header.size), received: UInt64(header.size) - left) }
            } catch {
                pipeline.release(slot)
                throw error
            }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            if writeError == nil {
                do throws(PosixError) {
                    try File.write(file, bytes, at: offset)
                    writeback.wrote(offset: offset, count: count)
                } catch {
                    writeError = error
                }
            }
            offset += Int64(count)
            left -= UInt64(count)
            progress(count)
            let last = left == 0
            let index = header.index
            pipeline.submit(slot, count: count) { piece in
                digest.update(piece)
                guard last else { return }
                Self.judge(index, digest.finalize(), expected: expected, verdicts: verdicts, record: record)
            }
        }
        channel.endBody()
    }

    /// A chunk that fits one read: read, written and hashed on this thread.
    private func receiveSmall(_ header: ChunkHeader, expected: [UInt8], from channel: MessageChannel, timeout: Duration?,
                              progress: (Int) -> Void) throws {
        // Sized to the chunk: a small file's few bytes come from the heap, not a fresh mapping.
        let buffer: UnsafeMutableRawBufferPointer
        if let reused = smallBuffer, reused.count >= header.size {
            buffer = reused
        } else {
            smallBuffer?.deallocate()
            buffer = .allocate(byteCount: max(header.size, 1), alignment: 16)
            smallBuffer = buffer
        }
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[..<header.size])
        channel.beginBody()
        let count = try channel.readBody(into: body, remaining: UInt64(header.size), timeout: timeout)
        guard count == header.size else { throw WireError.truncated(expected: UInt64(header.size), received: UInt64(count)) }
        channel.endBody()
        progress(count)
        let bytes = UnsafeRawBufferPointer(body)
        if writeError == nil {
            do throws(PosixError) { try File.write(file, bytes, at: Int64(ChunkGrid.offset(of: header.index))) } catch { writeError = error }
        }
        Self.judge(header.index, Digest.hash(.sha256, bytes), expected: expected, verdicts: verdicts, record: record)
    }

    /// Records whether chunk `index` hashed to what it should have.
    private static func judge(_ index: Int, _ result: [UInt8], expected: [UInt8], verdicts: Verdicts, record: ChunkRecord?) {
        if result == expected {
            verdicts.verified[index] = result
            verdicts.mismatched.remove(index)
            try? record?.record(index, digest: result)
        } else {
            // The bytes on disk are now these: whatever was held there before is gone.
            verdicts.verified[index] = nil
            verdicts.mismatched.insert(index)
            try? record?.forget(index)
        }
    }

    /// Waits for the last verdicts.
    public func finish() -> Outcome {
        if !finished {
            finished = true
            pipeline?.finish()
        }
        let mismatched = verdicts.mismatched.sorted()
        if writeError != nil { return Outcome(verified: [:], mismatched: mismatched, writeError: writeError) }
        return Outcome(verified: verdicts.verified, mismatched: mismatched, writeError: nil)
    }
}
