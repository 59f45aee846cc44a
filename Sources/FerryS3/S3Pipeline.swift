import Foundation

/// Up to `width` requests to one bucket at once, each on a thread and a keep-alive connection of its
/// own. Object stores serve many requests in parallel (awscli keeps ten in flight), and one request at
/// a time leaves both the store and the client waiting on round trips: a part writer and a chunk
/// reader keep a few going instead. Answers are taken in the order requests were started
/// (``takeOldest()``), or as they come (``takeFinished()``), so that one slow request (a store that
/// stops a second to add a volume, say) does not hold the lanes of those after it idle.
///
/// Every request gets a buffer of `bufferSize` bytes from the pipeline's small pool (at most `width` + 1
/// are ever made); its caller hands it back with ``recycle(_:)``. Not for sharing between threads: one
/// session drives it.
public final class S3Pipeline<Answer> {
    public let width: Int
    public let bufferSize: Int
    private let settings: S3Settings
    private let stallSeconds: Int
    /// The connections not serving a request now (at most `width` are ever made).
    private var idleLanes: [S3Bucket] = []
    private var spare: [UnsafeMutableRawBufferPointer] = []
    /// The requests not taken yet, in the order they were started.
    private var queue: [PipelineJob<Answer>] = []
    /// Guards every request's `hasEnded`, and is broadcast when one ends.
    private let ending = NSCondition()

    /// A pipeline of `width` lanes to `bucket`'s store (new connections, same settings).
    public init(like bucket: S3Bucket, width: Int, bufferSize: Int) {
        settings = bucket.settings
        stallSeconds = bucket.connection.stallTimeout
        self.width = max(1, width)
        self.bufferSize = max(1, bufferSize)
    }

    deinit {
        drain()
        for buffer in spare { buffer.deallocate() }
    }

    /// Whether `width` requests are in flight or not taken, so that ``start(_:with:)`` must wait for an
    /// answer first.
    public var isFull: Bool { queue.count >= width }
    /// How many requests are in flight or answered and not yet taken.
    public var pending: Int { queue.count }

    /// A buffer to fill and hand to ``start(_:with:)``, or give back with ``recycle(_:)``.
    public func buffer() -> UnsafeMutableRawBufferPointer {
        spare.popLast() ?? .allocate(byteCount: bufferSize, alignment: 64)
    }

    /// Gives a buffer back to the pool.
    public func recycle(_ buffer: UnsafeMutableRawBufferPointer) {
        spare.append(buffer)
    }

    /// Starts `work` on an idle lane, with `buffer` (which it alone touches until its answer is taken;
    /// recycled if the request cannot start). Must not be called when ``isFull``.
    public func start(_ buffer: UnsafeMutableRawBufferPointer,
                      with work: @escaping (S3Bucket, UnsafeMutableRawBufferPointer) throws(S3Error) -> Answer) throws(S3Error) {
        precondition(!isFull, "S3Pipeline.start while \(width) requests are in flight")
        let lane: S3Bucket
        if let idle = idleLanes.popLast() {
            lane = idle
        } else {
            do throws(S3Error) { lane = try S3Bucket(settings: settings, stallSeconds: stallSeconds) } catch {
                recycle(buffer)
                throw error
            }
        }
        let job = PipelineJob(bucket: lane, buffer: buffer, work: work, ending: ending)
        queue.append(job)
        Thread { job.run() }.start()
    }

    /// Waits for the oldest request and returns its answer with its buffer (to be recycled by the caller);
    /// when it failed, recycles the buffer and throws.
    public func takeOldest() throws(S3Error) -> (Answer, UnsafeMutableRawBufferPointer) {
        precondition(!queue.isEmpty, "S3Pipeline.takeOldest with nothing in flight")
        ending.lock()
        while !queue[0].hasEnded { ending.wait() }
        ending.unlock()
        return try take(at: 0)
    }

    /// Waits for any request to end and returns its answer with its buffer, as ``takeOldest()`` does.
    public func takeFinished() throws(S3Error) -> (Answer, UnsafeMutableRawBufferPointer) {
        precondition(!queue.isEmpty, "S3Pipeline.takeFinished with nothing in flight")
        ending.lock()
        var index = queue.firstIndex { $0.hasEnded }
        while index == nil {
            ending.wait()
            index = queue.firstIndex { $0.hasEnded }
        }
        ending.unlock()
        return try take(at: index!)
    }

    /// Takes the ended request at `index`; its lane goes back to the idle ones.
    private func take(at index: Int) throws(S3Error) -> (Answer, UnsafeMutableRawBufferPointer) {
        let job = queue.remove(at: index)
        idleLanes.append(job.bucket)
        switch job.result! {
        case .success(let answer): return (answer, job.buffer)
        case .failure(let error):
            recycle(job.buffer)
            throw error
        }
    }

    /// Waits for every request in flight and drops their answers.
    public func drain() {
        while !queue.isEmpty {
            _ = try? takeFinished()
        }
    }
}

/// One request on its way, on a thread of its own. Handed whole to that thread, which alone touches it
/// until it sets `hasEnded` (under the pipeline's `ending` lock); only then does the pipeline read
/// `result` (hence unchecked Sendable).
private final class PipelineJob<Answer>: @unchecked Sendable {
    let bucket: S3Bucket
    let buffer: UnsafeMutableRawBufferPointer
    let work: (S3Bucket, UnsafeMutableRawBufferPointer) throws(S3Error) -> Answer
    private let ending: NSCondition
    /// Read and written only under `ending`'s lock.
    var hasEnded = false
    var result: Result<Answer, S3Error>?

    init(bucket: S3Bucket, buffer: UnsafeMutableRawBufferPointer,
         work: @escaping (S3Bucket, UnsafeMutableRawBufferPointer) throws(S3Error) -> Answer, ending: NSCondition) {
        self.bucket = bucket
        self.buffer = buffer
        self.work = work
        self.ending = ending
    }

    func run() {
        let outcome: Result<Answer, S3Error>
        do throws(S3Error) { outcome = .success(try work(bucket, buffer)) } catch { outcome = .failure(error) }
        ending.lock()
        result = outcome
        hasEnded = true
        ending.broadcast()
        ending.unlock()
    }
}
