import FerryTransport
import Synchronization

/// ferryd's bandwidth limits as token buckets: one per user name with a `rate_limit`, which all of
/// that user's sessions share, and one for `max_rate`, which everyone shares. A session's bodies must
/// get tokens from both.
///
/// The rates are read from the user record and configuration a session passes in, at every command:
/// a changed limit takes effect from the next command on, each bucket keeping what it holds.
final class BandwidthLimits: Sendable {
    private struct State {
        var users: [String: TokenBucket] = [:]
        var server: TokenBucket?
    }
    private let state = Mutex(State())

    /// The throttle for a session of `user` now, with the server's `maxRate`; nil when neither limits it.
    func throttle(for user: UserRecord, maxRate: UInt64?) -> BodyThrottle? {
        let buckets = state.withLock { state in
            [Self.bucket(&state.users[user.name], rate: user.rateLimit), Self.bucket(&state.server, rate: maxRate)]
        }.compactMap { $0 }
        return buckets.isEmpty ? nil : BodyThrottle(buckets)
    }

    /// The bucket in `slot` at `rate`, made or brought to that rate; nil for no limit (the bucket, if
    /// any, is dropped: a limit set again later starts full).
    private static func bucket(_ slot: inout TokenBucket?, rate: UInt64?) -> TokenBucket? {
        guard let rate, rate > 0 else {
            slot = nil
            return nil
        }
        if let bucket = slot {
            bucket.setRate(rate)
            return bucket
        }
        let bucket = TokenBucket(rate: rate)
        slot = bucket
        return bucket
    }
}
