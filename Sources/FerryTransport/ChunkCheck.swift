import FerryPosix
import Foundation

/// Hashes again, on threads of its own, the chunks a partial file is said to hold, while the caller
/// goes on moving the others: a resume need not wait for the check of what it kept before it asks for
/// (or sends) what it lacks. ``wait()`` gives the chunks whose bytes still hash to their digest.
public final class ChunkCheck: @unchecked Sendable {
    // @unchecked: `outcome` is written once by the checking thread and read after `done` is signalled.
    private let done = DispatchSemaphore(value: 0)
    private var outcome: [Int: [UInt8]] = [:]
    private var waited: [Int: [UInt8]]?

    /// Starts checking `claims` (index and the digest its bytes must have) of `file`, `size` bytes long.
    public init(_ file: Descriptor, size: UInt64, claims: [Int: [UInt8]]) {
        let indices = claims.keys.sorted()
        let thread = Thread { [self] in
            if let result = try? FileHasher.hash(file, size: size, indices: indices) {
                for (index, digest) in zip(indices, result.digests) where claims[index] == digest { outcome[index] = digest }
            }
            done.signal()
        }
        thread.stackSize = 256 * 1024
        if indices.isEmpty { done.signal() } else { thread.start() }
    }

    /// The claims that held, waiting for the check to end (once; later calls return the same).
    public func wait() -> [Int: [UInt8]] {
        if let waited { return waited }
        done.wait()
        waited = outcome
        return outcome
    }
}
