import Foundation

/// Runs hashing on a second thread while the caller goes on reading and writing, so that hashing
/// overlaps I/O instead of adding to it.
///
/// A fixed pool of buffers circulates between the two: the caller takes a free one, fills it, writes it
/// out, and submits it with the work to do on it; the hashing thread runs the work, in submission order,
/// and returns the buffer to the pool. Memory is bounded by the pool whatever the stream's length.
public final class DigestPipeline: @unchecked Sendable {
    // @unchecked: `buffers` are handed between exactly two threads through `condition`, whose lock
    // orders every access; the submitted work runs only on the hashing thread.
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    private var free: [Int]
    private var pending: [(index: Int, count: Int, work: (UnsafeRawBufferPointer) -> Void)] = []
    private var finished = false
    private var done = false

    /// - Parameters:
    ///   - bufferSize: bytes per buffer.
    ///   - depth: buffers in the pool; 3 keeps both threads busy.
    public init(bufferSize: Int, depth: Int = 3) {
        buffers = (0..<depth).map { _ in .allocate(byteCount: bufferSize, alignment: 4096) }
        free = Array(0..<depth)
        let thread = Thread { [self] in hashLoop() }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    deinit {
        if !done { finish() }
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

    /// Hands the first `count` bytes of buffer `index` to the hashing thread, which runs `work` on them
    /// after everything submitted before.
    public func submit(_ index: Int, count: Int, work: @escaping (UnsafeRawBufferPointer) -> Void) {
        condition.lock()
        pending.append((index, count, work))
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

    /// Waits until all submitted work has run and stops the hashing thread.
    public func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
    }

    private func hashLoop() {
        condition.lock()
        while true {
            while pending.isEmpty && !finished { condition.wait() }
            if pending.isEmpty && finished { break }
            let (index, count, work) = pending.removeFirst()
            condition.unlock()
            work(UnsafeRawBufferPointer(rebasing: buffers[index][..<count]))
            condition.lock()
            free.append(index)
            condition.broadcast()
        }
        done = true
        condition.broadcast()
        condition.unlock()
    }
}
