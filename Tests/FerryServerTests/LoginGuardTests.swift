@testable import FerryServer
import Testing

@Suite struct LoginGuardTests {
    @Test func anAddressIsBannedAfterTheThresholdWithinTheWindowAndOthersAreNot() {
        let guardian = LoginGuard(threshold: 3, window: .seconds(60), duration: .seconds(600))
        let start = ContinuousClock.now
        #expect(!guardian.recordFailure(from: "10.0.0.1", user: "alice", now: start))
        #expect(!guardian.recordFailure(from: "10.0.0.1", user: "alice", now: start + .seconds(1)))
        #expect(guardian.banRemaining(for: "10.0.0.1", now: start + .seconds(2)) == nil)
        #expect(guardian.recordFailure(from: "10.0.0.1", user: "alice", now: start + .seconds(2)))
        #expect(guardian.banRemaining(for: "10.0.0.1", now: start + .seconds(3)) == .seconds(599))
        #expect(guardian.banRemaining(for: "10.0.0.2", now: start + .seconds(3)) == nil)
        #expect(guardian.banRemaining(for: "10.0.0.1", now: start + .seconds(603)) == nil, "the ban expires")
    }

    @Test func failuresOutsideTheWindowDoNotCount() {
        let guardian = LoginGuard(threshold: 3, window: .seconds(10), duration: .seconds(600))
        let start = ContinuousClock.now
        #expect(!guardian.recordFailure(from: "a", user: "alice", now: start))
        #expect(!guardian.recordFailure(from: "a", user: "alice", now: start + .seconds(11)))
        #expect(!guardian.recordFailure(from: "a", user: "alice", now: start + .seconds(12)))
        #expect(guardian.recordFailure(from: "a", user: "alice", now: start + .seconds(13)))
    }

    @Test func aSuccessForgetsOnlyTheFailuresAgainstItsOwnNameAndThresholdZeroNeverBans() {
        let guardian = LoginGuard(threshold: 2, window: .seconds(60), duration: .seconds(60))
        #expect(!guardian.recordFailure(from: "a", user: "alice"))
        guardian.recordSuccess(from: "a", user: "alice")
        #expect(!guardian.recordFailure(from: "a", user: "alice"), "alice's own typo was forgiven by her login")
        let off = LoginGuard(threshold: 0, window: .seconds(60), duration: .seconds(60))
        for _ in 0..<100 { #expect(!off.recordFailure(from: "a", user: "alice")) }
        #expect(off.banRemaining(for: "a") == nil)
    }

    @Test func aLoginWithOneAccountDoesNotWipeGuessesAtAnother() {
        let guardian = LoginGuard(threshold: 3, window: .seconds(60), duration: .seconds(60))
        #expect(!guardian.recordFailure(from: "a", user: "alice"))
        #expect(!guardian.recordFailure(from: "a", user: "alice"))
        guardian.recordSuccess(from: "a", user: "guest")
        #expect(guardian.recordFailure(from: "a", user: "alice"), "the third guess at alice bans, guest's login notwithstanding")
    }

    @Test func failuresDuringABanDoNotExtendIt() {
        let guardian = LoginGuard(threshold: 1, window: .seconds(60), duration: .seconds(60))
        let start = ContinuousClock.now
        #expect(guardian.recordFailure(from: "a", user: "x", now: start))
        #expect(!guardian.recordFailure(from: "a", user: "x", now: start + .seconds(30)))
        #expect(guardian.banRemaining(for: "a", now: start + .seconds(31)) == .seconds(29))
    }
}
