/// How many status replies go out, and to whom: a token bucket per source address, and one more for
/// all of them together.
///
/// A source may send `burst` probes at once, then `perSecond` a second; every source together at most
/// `overallPerSecond` (after a burst of as many). The table of sources is bounded by `capacity`, so a
/// flood from spoofed addresses cannot grow memory: a source whose bucket has refilled carries no state
/// and is forgotten when room is needed; while the table is full of sources that are all still
/// refilling, new sources get nothing. That sweep runs at most every `sweepInterval`, so a flood costs
/// a dictionary lookup per datagram, not a scan of the table.
struct SourceRateLimiter {
    private struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }

    let burst: Double
    let perSecond: Double
    let capacity: Int
    let overallBurst: Double
    let overallPerSecond: Double
    let sweepInterval: Duration
    private var buckets: [String: Bucket] = [:]
    private var overall: Bucket?
    private var lastSweep: ContinuousClock.Instant?

    init(burst: Int = 10, perSecond: Double = 5, capacity: Int = 1024,
         overallBurst: Int = 1000, overallPerSecond: Double = 1000, sweepInterval: Duration = .milliseconds(100)) {
        self.burst = Double(burst)
        self.perSecond = perSecond
        self.capacity = capacity
        self.overallBurst = Double(overallBurst)
        self.overallPerSecond = overallPerSecond
        self.sweepInterval = sweepInterval
    }

    /// Sources with a bucket now.
    var sourceCount: Int { buckets.count }

    /// Whether a reply to `source` may go out at `now`; if so, it is counted.
    mutating func allow(_ source: String, at now: ContinuousClock.Instant) -> Bool {
        if buckets[source] == nil, buckets.count >= capacity {
            sweep(at: now)
            if buckets.count >= capacity { return false }
        }
        var own = Self.refilled(buckets[source], burst: burst, perSecond: perSecond, at: now)
        var all = Self.refilled(overall, burst: overallBurst, perSecond: overallPerSecond, at: now)
        let allowed = own.tokens >= 1 && all.tokens >= 1
        if allowed {
            own.tokens -= 1
            all.tokens -= 1
        }
        buckets[source] = own
        overall = all
        return allowed
    }

    /// Forgets the sources whose buckets are full again, at most once per `sweepInterval`.
    private mutating func sweep(at now: ContinuousClock.Instant) {
        if let lastSweep, now - lastSweep < sweepInterval { return }
        lastSweep = now
        let (burst, perSecond) = (self.burst, self.perSecond)
        buckets = buckets.filter { Self.refilled($0.value, burst: burst, perSecond: perSecond, at: now).tokens < burst }
    }

    private static func refilled(_ bucket: Bucket?, burst: Double, perSecond: Double, at now: ContinuousClock.Instant) -> Bucket {
        guard let bucket else { return Bucket(tokens: burst, last: now) }
        let (seconds, attoseconds) = (now - bucket.last).components
        let elapsed = max(0, Double(seconds) + Double(attoseconds) / 1e18)
        return Bucket(tokens: min(burst, bucket.tokens + elapsed * perSecond), last: now)
    }
}
