import FerryPosix
import Foundation

/// One low-priority thread that runs jobs one at a time, in order: work that may wait (an MD5 to add to
/// a manifest) without taking a core from transfers. Its nice value is 19; a Dispatch pool thread cannot
/// be used for this, since an unprivileged process could not raise it back afterwards. The thread is
/// started by the first job and ends after a few idle seconds.
final class BackgroundWorker: @unchecked Sendable {
    // @unchecked: `jobs` is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var running = false
    private let name: String
    /// Jobs waiting at most; more are dropped (each may hold a descriptor).
    let capacity: Int

    init(name: String, capacity: Int) {
        self.name = name
        self.capacity = capacity
    }

    /// Queues `job`; false when the queue is full and the job was dropped.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard jobs.count < capacity else { return false }
        jobs.append(job)
        condition.signal()
        if !running {
            running = true
            let thread = Thread { [self] in run() }
            thread.name = name
            thread.stackSize = 512 * 1024
            thread.start()
        }
        return true
    }

    private func run() {
        Posix.niceThisThread(19)
        while true {
            condition.lock()
            if jobs.isEmpty { _ = condition.wait(until: Date(timeIntervalSinceNow: 5)) }
            guard !jobs.isEmpty else {
                running = false
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
