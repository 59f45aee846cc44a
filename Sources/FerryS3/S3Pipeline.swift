import Foundation

/// Up to `width` requests to one bucket at once, each on a thread and a keep-alive connection of its
/// own, answered in the order they were started. Object stores serve many requests in parallel (awscli
/// keeps ten in flight), and one request at a time leaves both the store and the client waiting on
/// round trips: a part writer and a chunk reader keep a few going instead.
///
/// Every request gets a buffer of `bufferSize` bytes from the pipeline's small pool (at most `width` + 1
/// are ever made); its caller hands it back with ``recycle(_:)``. Not for sharing between threads: one
/// session drives it.
public final class S3Pipeline<Answer> {
    public let width: Int
    public let bufferSize: Int
    private let settings: S3Settings
    private let stallSeconds: Int
    /// Connection `i` serves requests `i`, `i + width`, …; request `n` starts only once `n - width` was
    /// answered (answers are taken in order), so a lane is never used by two at once.
    private var lanes: [S3Bucket] = []
    private var spare: [UnsafeMutableRawBufferPointer] = []
    private var queue: [PipelineJob<Answer>] = []
    private var started = 0

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

    /// Whether `width` requests are in flight, so that ``start(_:with:)`` must wait for an answer first.
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

    /// Starts `work` on the next lane, with `buffer` (which it alone touches until its answer is taken;
    /// recycled if the request cannot start). Must not be called when ``isFull``.
    public func start(_ buffer: UnsafeMutableRawBufferPointer,
                      with work: @escaping (S3Bucket, UnsafeMutableRawBufferPointer) throws(S3Error) -> Answer) throws(S3Error) {
        precondition(!isFull, "S3Pipeline.start while \(width) requests are in flight")
        let lane = started % width
        if lane == lanes.count {
            do throws(S3Error) { lanes.append(try S3Bucket(settings: settings, stallSeconds: stallSeconds)) } catch {
                recycle(buffer)
                throw error
            }
        }
        let job = PipelineJob(bucket: lanes[lane], buffer: buffer, work: work)
        started += 1
        queue.append(job)
        Thread { job.run() }.start()
    }

    /// Waits for the oldest request and returns its answer with its buffer (to be recycled by the caller);
    /// when it failed, recycles the buffer and throws.
    public func takeOldest() throws(S3Error) -> (Answer, UnsafeMutableRawBufferPointer) {
        precondition(!queue.isEmpty, "S3Pipeline.takeOldest with nothing in flight")
        let job = queue.removeFirst()
        job.done.wait()
        switch job.result! {
        case .success(let answer): return (answer, job.buffer)
        case .failure(let error):
            recycle(job.buffer)
            throw error
        }
    }

    /// Waits for every request in flight and drops their answers.
    public func drain() {
        while let job = queue.first {
            queue.removeFirst()
            job.done.wait()
            recycle(job.buffer)
        }
    }
}

/// One request on its way, on a thread of its own. Handed whole to that thread, which alone touches it
/// until it signals `done`; only then does the pipeline read `result` (hence unchecked Sendable).
private final class PipelineJob<Answer>: @unchecked Sendable {
    let bucket: S3Bucket
    let buffer: UnsafeMutableRawBufferPointer
    let work: (S3Bucket, UnsafeMutableRawBufferPointer) throws(S3Error) -> Answer
    let done = DispatchSemaphore(value: 0)
    var result: Result<Answer, S3Error>?

    init(bucket: S3Bucket, buffer: UnsafeMutableRawBufferPointer,
         work: @escaping (S3Bucket, UnsafeMutableRawBufferPointer) throws(S3Error) -> Answer) {
        self.bucket = bucket
        self.buffer = buffer
        self.work = work
    }

    func run() {
        do throws(S3Error) { result = .success(try work(bucket, buffer)) } catch { result = .failure(error) }
        done.signal()
    }
}
