import FerryCrypto
import Foundation
import Synchronization

/// Hashes a stream on a second thread while the caller goes on reading and writing, so that hashing
/// overlaps I/O instead of adding to it.
///
/// A fixed pool of chunk-sized buffers circulates between the two: the caller takes a free one, fills
/// it, writes it out, and submits it; the hashing thread digests it and returns it to the pool.
/// Memory is bounded by the pool whatever the stream's length.
public final class DigestPipeline: @unchecked Sendable {
    // @unchecked: `buffers` are handed between exactly two threads through `queue`, whose lock orders
    // every access; `digest` is touched only by the hashing thread until `finish()` has joined it.
    private let digest: Digest
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    private var free: [Int]
    private var pending: [(index: Int, count: Int)] = []
    private var finished = false
    private var done = false

    /// - Parameters:
    ///   - chunkSize: bytes per buffer.
    ///   - depth: buffers in the pool; 3 keeps both threads busy.
    public init(_ algorithm: DigestAlgorithm = .md5, chunkSize: Int, depth: Int = 3) {
        digest = Digest(algorithm)
        buffers = (0..<depth).map { _ in .allocate(byteCount: chunkSize, alignment: 4096) }
        free = Array(0..<depth)
        let thread = Thread { [self] in hashLoop() }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    deinit {
        if !done { _ = finish() }
        buffers.forEach { $0.deallocate() }
    }

    /// A free buffer and its index, waiting for the hashing thread to return one if none is free.
    public func acquire() -> (index: Int, buffer: UnsafeMutableRawBufferPointer) {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        let index = free.removeLast()
        return (index, buffers[index])
    }

    /// Hands the first `count` bytes of buffer `index` to the hashing thread, in stream order.
    public func submit(_ index: Int, count: Int) {
        condition.lock()
        pending.append((index, count))
        condition.signal()
        condition.unlock()
    }

    /// Returns an unused buffer to the pool.
    public func release(_ index: Int) {
        condition.lock()
        free.append(index)
        condition.signal()
        condition.unlock()
    }

    /// Waits for every submitted byte to be hashed and returns the digest.
    public func finish() -> [UInt8] {
        condition.lock()
        finished = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
        return digest.finalize()
    }

    private func hashLoop() {
        condition.lock()
        while true {
            while pending.isEmpty && !finished { condition.wait() }
            if pending.isEmpty && finished { break }
            let (index, count) = pending.removeFirst()
            condition.unlock()
            digest.update(UnsafeRawBufferPointer(rebasing: buffers[index][..<count]))
            condition.lock()
            free.append(index)
            condition.broadcast()
        }
        done = true
        condition.broadcast()
        condition.unlock()
    }
}
