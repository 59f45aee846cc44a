import FerryCrypto
@testable import FerryServer
import FerryTransport
import Testing

private let credentials = ScramCredentials(salt: [1], iterations: ScramCredentials.minimumIterations,
                                           storedKey: [UInt8](repeating: 0, count: 32), serverKey: [UInt8](repeating: 0, count: 32))

private func user(_ name: String, rate: UInt64?) -> UserRecord {
    UserRecord(name: name, credentials: credentials, rateLimit: rate)
}

@Suite("BandwidthLimits")
struct BandwidthLimitsTests {
    @Test("no rate_limit and no max_rate: no throttle at all")
    func unlimited() {
        #expect(BandwidthLimits().throttle(for: user("a", rate: nil), maxRate: nil) == nil)
        #expect(BandwidthLimits().throttle(for: user("a", rate: 0), maxRate: 0) == nil)
    }

    @Test("every session of a user gets that user's one bucket; every session of anyone, the server's one")
    func sharedBuckets() throws {
        let limits = BandwidthLimits()
        let first = try #require(limits.throttle(for: user("alice", rate: 1000), maxRate: 5000))
        let second = try #require(limits.throttle(for: user("alice", rate: 1000), maxRate: 5000))
        let other = try #require(limits.throttle(for: user("bob", rate: 1000), maxRate: 5000))
        let free = try #require(limits.throttle(for: user("carol", rate: nil), maxRate: 5000))
        #expect(first.buckets.count == 2)
        #expect(first.buckets[0] === second.buckets[0], "alice's sessions share her bucket")
        #expect(first.buckets[0] !== other.buckets[0], "bob has his own")
        #expect(first.buckets[0].rate == 1000 && first.buckets[1].rate == 5000)
        #expect(free.buckets.count == 1 && free.buckets[0] === first.buckets[1], "carol has only the server's, the same as all")
        #expect(other.buckets[1] === first.buckets[1])
    }

    @Test("a changed limit (a reloaded record or configuration) applies to the same bucket; a removed one drops it")
    func liveRates() throws {
        let limits = BandwidthLimits()
        let before = try #require(limits.throttle(for: user("alice", rate: 1000), maxRate: nil))
        let after = try #require(limits.throttle(for: user("alice", rate: 3000), maxRate: 9000))
        #expect(after.buckets[0] === before.buckets[0])
        #expect(before.buckets[0].rate == 3000)
        #expect(after.buckets[1].rate == 9000)
        let serverOnly = try #require(limits.throttle(for: user("alice", rate: nil), maxRate: 9000))
        #expect(serverOnly.buckets.count == 1 && serverOnly.buckets[0] === after.buckets[1])
        let again = try #require(limits.throttle(for: user("alice", rate: 1000), maxRate: nil))
        #expect(again.buckets[0] !== before.buckets[0], "a limit set again starts a fresh bucket")
    }
}
