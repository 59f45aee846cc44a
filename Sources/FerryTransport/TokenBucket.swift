import Synchronization

/// A bandwidth limit: a token bucket that fills at `rate` bytes a second and holds at most a tenth of
/// a second's worth (``burst``). Shared by every transfer it limits (all sessions of a user, or all of
/// the server), from any thread.
///
/// Takers never wait inside it: ``take(_:)`` debits the bytes at once, letting the balance go below
/// zero, and returns how long the taker must sleep until the debt is paid off. Each taker thus books
/// its place in time in the order it came, so sessions sharing a bucket take turns, slice by slice
/// (``slice``), and none can starve another; there is no thread of its own and no polling.
///
/// Why a tenth of a second: an idle bucket lets at most that much through at once (1 % over ten
/// seconds), and a taker that wakes late, as on a loaded machine, finds the tokens that accrued
/// meanwhile still there (up to 100 ms of lateness), so the limit is met, not undershot.
public final class TokenBucket: Sendable {
    /// The largest piece a taker moves before paying for it, whatever the rate.
    public static let longestSlice = 64 * 1024
    /// Pieces are about this fraction of a second's worth of bytes, below ``longestSlice``.
    static let slicesPerSecond: UInt64 = 16

    private struct State {
        var rate: UInt64
        /// May be negative: bytes already promised to takers that are sleeping them off.
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let state: Mutex<State>
    private let now: @Sendable () -> ContinuousClock.Instant

    /// A full bucket.
    /// - Parameters:
    ///   - rate: bytes per second, more than 0.
    ///   - now: the clock; tests pass one they move by hand.
    public init(rate: UInt64, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        precondition(rate > 0, "a token bucket needs a rate")
        self.now = now
        state = Mutex(State(rate: rate, tokens: Self.burst(of: rate), updated: now()))
    }

    /// Bytes per second.
    public var rate: UInt64 { state.withLock { $0.rate } }

    /// Changes the rate from now on (a reloaded configuration); what accrued so far stays, up to the
    /// new burst.
    public func setRate(_ rate: UInt64) {
        precondition(rate > 0, "a token bucket needs a rate")
        let now = now()
        state.withLock { state in
            guard state.rate != rate else { return }
            Self.refill(&state, at: now)
            state.rate = rate
            state.tokens = min(state.tokens, Self.burst(of: rate))
        }
    }

    /// The most an idle bucket lets through at once: a tenth of a second's worth, at least one byte.
    public static func burst(of rate: UInt64) -> Double { max(Double(rate) / 10, 1) }

    /// How many bytes a taker should move before it pays: a sixteenth of a second's worth, from 1 byte
    /// to ``longestSlice``. Small enough that sessions sharing the bucket take turns often, and that a
    /// taker sleeps at most 1/16 s at a time when alone.
    public var slice: Int { Self.slice(of: rate) }

    static func slice(of rate: UInt64) -> Int { Int(min(UInt64(longestSlice), max(1, rate / slicesPerSecond))) }

    /// Debits `count` bytes and returns how long the taker must wait before it may move (or, having
    /// moved them, go on with) more: zero while the bucket still held enough.
    public func take(_ count: Int) -> Duration {
        let now = now()
        return state.withLock { state in
            Self.refill(&state, at: now)
            state.tokens -= Double(count)
            guard state.tokens < 0 else { return .zero }
            return .seconds(-state.tokens / Double(state.rate))
        }
    }

    private static func refill(_ state: inout State, at now: ContinuousClock.Instant) {
        guard now > state.updated else { return }
        let (seconds, attoseconds) = (now - state.updated).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        state.tokens = min(burst(of: state.rate), state.tokens + elapsed * Double(state.rate))
        state.updated = now
    }
}
