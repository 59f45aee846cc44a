import FerryPosix

/// The limits a ``MessageChannel`` keeps its bodies to: every byte of a file body it sends or
/// receives must get tokens from each bucket (a user's and the server's at once, or a client's own
/// `--limit-rate`). Frames never ask: listings, manifests and logins go at full speed.
///
/// The channel moves at most ``slice`` bytes at a time and then calls ``pay(_:)``, which sleeps off
/// whatever the slowest bucket asks, so bytes run ahead of their tokens by one slice at most.
public struct BodyThrottle: Sendable {
    /// The buckets every body byte must get tokens from; never empty.
    public let buckets: [TokenBucket]
    private let sleep: @Sendable (Duration) -> Void

    /// Waits shorter than this are not slept but left as debt in the bucket, for the next piece to
    /// sleep off with its own: at high rates that halves the wake-ups, and the limit holds the same.
    static let shortestSleep: Duration = .milliseconds(1)

    /// - Parameters:
    ///   - buckets: at least one.
    ///   - sleep: how to wait; tests pass one that moves their clock.
    public init(_ buckets: [TokenBucket], sleep: @escaping @Sendable (Duration) -> Void = { Posix.sleep(for: $0) }) {
        precondition(!buckets.isEmpty, "a throttle needs a bucket")
        self.buckets = buckets
        self.sleep = sleep
    }

    /// The most to move before paying: the smallest slice of the buckets.
    public var slice: Int { buckets.map(\.slice).min() ?? TokenBucket.longestSlice }

    /// Pays for `count` bytes just moved, slice by slice, sleeping each time as long as the bucket
    /// furthest in debt asks; between slices other sessions sharing a bucket get their turns.
    public func pay(_ count: Int) {
        var left = count
        while left > 0 {
            let piece = min(left, slice)
            let wait = buckets.map { $0.take(piece) }.max() ?? .zero
            if wait >= Self.shortestSleep { sleep(wait) }
            left -= piece
        }
    }
}
