@testable import FerryServer
import Testing

@Suite struct SourceRateLimiterTests {
    @Test func aSourceGetsItsBurstThenItsRateAndOthersAreUnaffected() {
        let limiter = Limiter(SourceRateLimiter(burst: 3, perSecond: 2))
        let start = ContinuousClock.now
        #expect((0..<5).map { _ in limiter.allow("10.0.0.1", at: start) } == [true, true, true, false, false])
        #expect(limiter.allow("10.0.0.2", at: start), "another source has a bucket of its own")
        #expect(!limiter.allow("10.0.0.1", at: start + .milliseconds(400)), "0.8 of a token is not one")
        #expect(limiter.allow("10.0.0.1", at: start + .milliseconds(500)))
        #expect(!limiter.allow("10.0.0.1", at: start + .milliseconds(500)))
        #expect((0..<5).map { _ in limiter.allow("10.0.0.1", at: start + .seconds(60)) } == [true, true, true, false, false],
                "a bucket refills to its burst, no further")
    }

    @Test func allSourcesTogetherAreHeldToTheOverallRate() {
        let limiter = Limiter(SourceRateLimiter(burst: 10, perSecond: 10, overallBurst: 5, overallPerSecond: 1))
        let start = ContinuousClock.now
        let answered = (0..<20).filter { limiter.allow("10.0.0.\($0)", at: start) }.count
        #expect(answered == 5)
        #expect(limiter.allow("10.0.0.99", at: start + .seconds(1)))
        #expect(!limiter.allow("10.0.0.98", at: start + .seconds(1)))
    }

    @Test func aSpoofedFloodCannotGrowTheTable() {
        let limiter = Limiter(SourceRateLimiter(burst: 2, perSecond: 1, capacity: 100, overallBurst: 1_000_000, overallPerSecond: 1_000_000))
        let start = ContinuousClock.now
        var answered = 0, largest = 0
        for index in 0..<100_000 {
            if limiter.allow("spoofed-\(index)", at: start + .microseconds(index)) { answered += 1 }
            largest = max(largest, limiter.sourceCount)
        }
        #expect(largest == 100)
        #expect(answered == 100, "new sources are turned away while the table is full of refilling buckets")
        #expect(!limiter.allow("real", at: start + .milliseconds(500)), "still full: nothing has refilled")
        // Two seconds later every bucket is full again, so carries no state: the table makes room.
        #expect(limiter.allow("real", at: start + .seconds(3)))
        #expect(limiter.sourceCount == 1)
    }

    @Test func aKnownSourceKeepsItsBucketWhileTheTableIsFull() {
        let limiter = Limiter(SourceRateLimiter(burst: 2, perSecond: 1, capacity: 2))
        let start = ContinuousClock.now
        #expect(limiter.allow("a", at: start))
        #expect(limiter.allow("b", at: start))
        #expect(!limiter.allow("c", at: start))
        #expect(limiter.allow("a", at: start), "its second token")
        #expect(!limiter.allow("a", at: start))
    }
}

/// The limiter behind a reference, so that `#expect` can call its mutating method.
private final class Limiter {
    private var limiter: SourceRateLimiter
    init(_ limiter: SourceRateLimiter) { self.limiter = limiter }
    func allow(_ source: String, at now: ContinuousClock.Instant) -> Bool { limiter.allow(source, at: now) }
    var sourceCount: Int { limiter.sourceCount }
}
