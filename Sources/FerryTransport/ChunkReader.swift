import FerryCrypto
import FerryPosix
import FerryWire
import Foundation

/// Reads chunks of a file and hashes them on worker threads, a few ahead of the caller, who takes them
/// in order to send them: the file is read once, and hashing overlaps sending. Memory is a ring of
/// `workers + 2` chunk buffers.
public final class ChunkReader: @unchecked Sendable {
    // @unchecked: the mutable state is guarded by `condition`; a buffer is written by the one worker
    // that claimed its position and read by the caller only after that worker published the digest.

    /// One chunk, read and hashed; its bytes stay valid until ``done(_:)``.
    public struct Item {
        public let index: Int
        public let bytes: UnsafeRawBufferPointer
        public let digest: [UInt8]
        fileprivate let position: Int
    }

    private let file: Descriptor
    private let size: UInt64
    private let indices: [Int]
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    private var claimed = 0
    private var consumed = 0
    private var ready: [Int: (count: Int, digest: [UInt8])] = [:]
    private var failure: (any Error)?
    private var running: Int
    private var stopping = false

    /// Starts reading chunks `indices` (ascending) of `file`, `size` bytes long.
    public init(file: Descriptor, size: UInt64, indices: [Int], workers: Int = FileHasher.workers) {
        self.file = file
        self.size = size
        self.indices = indices
        let threads = max(1, min(workers, indices.count))
        buffers = (0..<(threads + 2)).map { _ in .allocate(byteCount: ChunkGrid.size, alignment: 4096) }
        running = threads
        for _ in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    deinit {
        stop()
        buffers.forEach { $0.deallocate() }
    }

    /// The next chunk in order, nil after the last; rethrows a read failure.
    public func next() throws -> Item? {
        condition.lock()
        defer { condition.unlock() }
        let position = consumed
        guard position < indices.count else { return nil }
        while ready[position] == nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        let (count, digest) = ready.removeValue(forKey: position)!
        let bytes = UnsafeRawBufferPointer(rebasing: buffers[position % buffers.count][..<count])
        return Item(index: indices[position], bytes: bytes, digest: digest, position: position)
    }

    /// Hands an item's buffer back for a later chunk.
    public func done(_ item: Item) {
        condition.lock()
        consumed = item.position + 1
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the workers and waits for them.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            while !stopping && failure == nil && claimed < indices.count && claimed >= consumed + buffers.count {
                condition.wait()
            }
            guard !stopping, failure == nil, claimed < indices.count else { break }
            let position = claimed
            claimed += 1
            condition.unlock()
            let index = indices[position]
            let length = ChunkGrid.length(of: index, fileSize: size)
            let buffer = UnsafeMutableRawBufferPointer(rebasing: buffers[position % buffers.count][..<length])
            var outcome: Result<[UInt8], any Error>
            do {
                let count = try File.read(file, into: buffer, at: Int64(ChunkGrid.offset(of: index)))
                if count != length { throw FileShrank(expected: size, sent: ChunkGrid.offset(of: index) + UInt64(count)) }
                outcome = .success(Digest.hash(.sha256, UnsafeRawBufferPointer(buffer)))
            } catch {
                outcome = .failure(error)
            }
            condition.lock()
            switch outcome {
            case .success(let digest): ready[position] = (length, digest)
            case .failure(let error): if failure == nil { failure = error }
            }
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }
}
