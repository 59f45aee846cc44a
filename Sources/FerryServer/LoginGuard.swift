import FerryWire
import Synchronization

/// Bans an address that fails to log in too often, as SFTPGo's defender and fail2ban do: after
/// `threshold` failures within `window`, the address is refused for `duration`. Other addresses are
/// unaffected.
///
/// Sessions ask at every authentication attempt, not only when a connection arrives, so connections
/// opened before a ban get no more guesses than new ones. A successful login forgets only the failures
/// against the name that logged in: a valid account does not buy unlimited guesses at the others.
///
/// The three settings may change while ferryd runs (a reload of config.ini); bans and failures already
/// recorded stay as they are.
public final class LoginGuard: Sendable {
    /// Failures within `window` that start a ban; 0: never ban.
    public var threshold: Int { policy.withLock { $0.threshold } }
    public var window: Duration { policy.withLock { $0.window } }
    /// How long a ban lasts.
    public var duration: Duration { policy.withLock { $0.duration } }

    private struct Policy {
        var threshold: Int
        var window: Duration
        var duration: Duration
    }
    private let policy: Mutex<Policy>

    private struct Failure {
        let at: ContinuousClock.Instant
        let user: String
    }
    private struct Record {
        var failures: [Failure] = []
        var bannedUntil: ContinuousClock.Instant?
    }
    private let records = Mutex<[String: Record]>([:])
    /// Addresses tracked at most, so a spray of addresses cannot grow memory without bound.
    static let capacity = 100_000

    public init(threshold: Int, window: Duration, duration: Duration) {
        policy = Mutex(Policy(threshold: threshold, window: window, duration: duration))
    }

    /// New settings for the failures and bans to come; a ban under way keeps its end.
    public func update(threshold: Int, window: Duration, duration: Duration) {
        policy.withLock { $0 = Policy(threshold: threshold, window: window, duration: duration) }
    }

    /// The time left on a ban of `address`, or nil when it may connect and try to log in.
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

    /// The `banned` answer to an address with `remaining` time left on its ban.
    static func refusal(of address: String, remaining: Duration) -> ErrorReply {
        ErrorReply(.banned, "too many failed logins from \(address); try again in \(remaining.components.seconds + 1) s")
    }

    /// Records a failed login as `user`; returns true when this failure starts a ban.
    @discardableResult
    public func recordFailure(from address: String, user: String, now: ContinuousClock.Instant = .now) -> Bool {
        let (threshold, window, duration) = policy.withLock { ($0.threshold, $0.window, $0.duration) }
        guard threshold > 0 else { return false }
        return records.withLock { records in
            if records.count >= Self.capacity && records[address] == nil {
                records = records.filter { $0.value.bannedUntil.map { $0 > now } ?? false }
            }
            var record = records[address, default: Record()]
            if let until = record.bannedUntil, until > now { return false }
            record.failures = record.failures.filter { now - $0.at < window } + [Failure(at: now, user: user)]
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

    /// Forgets the failures against `user` after that user logged in; failures against other names stay.
    public func recordSuccess(from address: String, user: String) {
        records.withLock { records in
            guard var record = records[address] else { return }
            record.failures.removeAll { $0.user == user }
            records[address] = record.failures.isEmpty && record.bannedUntil == nil ? nil : record
        }
    }
}
