import Synchronization

/// Bans an address that fails to log in too often, as SFTPGo's defender and fail2ban do: after
/// `threshold` failures within `window`, new connections from it are refused for `duration`.
/// Other addresses are unaffected.
public final class LoginGuard: Sendable {
    public let threshold: Int
    public let window: Duration
    public let duration: Duration

    private struct Record {
        var failures: [ContinuousClock.Instant] = []
        var bannedUntil: ContinuousClock.Instant?
    }
    private let records = Mutex<[String: Record]>([:])
    /// Addresses tracked at most, so a spray of addresses cannot grow memory without bound.
    static let capacity = 100_000

    public init(threshold: Int, window: Duration, duration: Duration) {
        self.threshold = threshold
        self.window = window
        self.duration = duration
    }

    /// The time left on a ban of `address`, or nil when it may connect.
    public func banRemaining(for address: String, now: ContinuousClock.Instant = .now) -> Duration? {
        records.withLock { records in
            guard let until = records[address]?.bannedUntil else { return nil }
            if until <= now {
                records[address] = nil
                return nil
            }
            return until - now
        }
    }

    /// Records a failed login; returns true when this failure starts a ban.
    @discardableResult
    public func recordFailure(from address: String, now: ContinuousClock.Instant = .now) -> Bool {
        guard threshold > 0 else { return false }
        return records.withLock { records in
            if records.count >= Self.capacity && records[address] == nil {
                records = records.filter { $0.value.bannedUntil.map { $0 > now } ?? false }
            }
            var record = records[address, default: Record()]
            record.failures = record.failures.filter { now - $0 < window } + [now]
            var banned = false
            if record.failures.count >= threshold {
                record.bannedUntil = now + duration
                record.failures.removeAll()
                banned = true
            }
            records[address] = record
            return banned
        }
    }

    /// Forgets failures after a successful login.
    public func recordSuccess(from address: String) {
        records.withLock { records in
            if records[address]?.bannedUntil == nil { records[address] = nil }
        }
    }
}
