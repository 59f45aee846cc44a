import FerryPosix
import FerryTransport
import Foundation
import Synchronization
import Testing

/// A clock that moves only when told: a throttle's sleep moves it by the time asked.
private final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    private let sleeps = Mutex<[Duration]>([])

    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    /// Every sleep asked for, in order.
    var slept: [Duration] { sleeps.withLock { $0 } }

    func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
    func set(_ to: ContinuousClock.Instant) { instant.withLock { $0 = max($0, to) } }

    func sleep(_ duration: Duration) {
        sleeps.withLock { $0.append(duration) }
        advance(duration)
    }

    func bucket(rate: UInt64) -> TokenBucket { TokenBucket(rate: rate, now: { [self] in now }) }
    func throttle(_ buckets: TokenBucket...) -> BodyThrottle { BodyThrottle(buckets, sleep: { [self] in sleep($0) }) }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

private let mebibyte: UInt64 = 1 << 20

@Suite("TokenBucket and BodyThrottle")
struct TokenBucketTests {
    @Test("an idle bucket lets a tenth of a second's worth through at once, then asks for the rest in time")
    func burstThenDebt() {
        let clock = ManualClock()
        let bucket = clock.bucket(rate: mebibyte)
        #expect(TokenBucket.burst(of: mebibyte) == Double(mebibyte) / 10)
        #expect(bucket.take(100 * 1024) == .zero, "within the burst")
        let wait = seconds(bucket.take(64 * 1024))
        let expected = (Double(100 * 1024 + 64 * 1024) - Double(mebibyte) / 10) / Double(mebibyte)
        #expect(abs(wait - expected) < 1e-6, "\(wait) s, not \(expected) s")
        // A second taker queues behind the first's debt.
        let next = seconds(bucket.take(64 * 1024))
        #expect(abs(next - (expected + 65536.0 / Double(mebibyte))) < 1e-6)
        // Idle long enough, it is full again, and never more than full.
        clock.advance(.seconds(60))
        #expect(bucket.take(Int(mebibyte / 10)) == .zero)
        #expect(bucket.take(1024) > .zero)
    }

    @Test("slices are a sixteenth of a second's worth, from 1 byte up to 64 KiB", arguments: [
        (1, 1), (1600, 100), (16 * 1024, 1024), (1 << 20, 64 * 1024), (1 << 40, 64 * 1024),
    ] as [(UInt64, Int)])
    func slices(rate: UInt64, slice: Int) {
        #expect(TokenBucket(rate: rate).slice == slice)
    }

    @Test("a lone transfer keeps to the rate: 10 MiB at 1 MiB/s takes 9.9 s (the first 0.1 s was the burst)")
    func loneTransferKeepsTheRate() {
        let clock = ManualClock()
        let throttle = clock.throttle(clock.bucket(rate: mebibyte))
        let start = clock.now
        // As sendfile pieces come: a slice at most, sometimes less.
        var left = Int(10 * mebibyte)
        var step = 0
        while left > 0 {
            let piece = min(left, [throttle.slice, 1000, throttle.slice / 3][step % 3])
            throttle.pay(piece)
            left -= piece
            step += 1
        }
        let elapsed = seconds(clock.now - start)
        // What is left unslept is less than the shortest sleep (1 ms).
        #expect(elapsed > 9.899 && elapsed <= 9.9 + 1e-9, "\(elapsed) s")
        // One slice's time (62.5 ms) and what was left unslept before it (under 1 ms), at most.
        #expect(clock.slept.allSatisfy { $0 >= .milliseconds(1) && $0 <= .milliseconds(64) }, "no sleep past one slice's time")
    }

    @Test("transfers sharing a bucket take turns, piece by piece: equal ones get equal shares, none is starved")
    func sharersTakeTurns() {
        let clock = ManualClock()
        let bucket = clock.bucket(rate: 2 * mebibyte)
        // Three transfers on threads of their own, simulated in time order: the one due first moves
        // its piece (a slice, or all the socket had), pays, and is due again when its sleep is over.
        let pieces = [64 * 1024, 64 * 1024, 20_000]
        var due = Array(repeating: clock.now, count: 3)
        var moved = [0, 0, 0]
        let start = clock.now
        let end = start + .seconds(10)
        while let next = due.indices.min(by: { due[$0] < due[$1] }), due[next] < end {
            clock.set(due[next])
            moved[next] += pieces[next]
            let wait = bucket.take(pieces[next])
            due[next] = clock.now + (wait >= .milliseconds(1) ? wait : .zero)
        }
        let total = Double(moved.reduce(0, +))
        // All 10 s were used, and each transfer ran ahead of its tokens by one piece (and under 1 ms) at most.
        let least = 10 * 2 * Double(mebibyte) + TokenBucket.burst(of: 2 * mebibyte)
        let most = least + Double(pieces.reduce(0, +)) + 0.001 * 2 * Double(mebibyte)
        #expect(total >= least && total <= most, "\(total) bytes moved in 10 s at 2 MiB/s")
        let big = Double(moved[0] + moved[1]) / 2
        // The first to come may have taken the burst alone; after that they alternate.
        #expect(abs(Double(moved[0] - moved[1])) <= TokenBucket.burst(of: 2 * mebibyte) + 65536, "the two equal transfers: \(moved)")
        // Turns are per piece: a transfer moving smaller pieces gets less, never nothing.
        #expect(Double(moved[2]) > 0.25 * big, "the one with small pieces still moves: \(moved)")
    }

    @Test("a byte needs tokens from every bucket: whichever is slower sets the pace")
    func slowerBucketSetsThePace() {
        for (userRate, serverRate) in [(mebibyte, 4 * mebibyte), (4 * mebibyte, mebibyte)] {
            let clock = ManualClock()
            let throttle = clock.throttle(clock.bucket(rate: userRate), clock.bucket(rate: serverRate))
            #expect(throttle.slice == 64 * 1024)
            let start = clock.now
            throttle.pay(Int(5 * mebibyte))
            let elapsed = seconds(clock.now - start)
            #expect(elapsed > 4.899 && elapsed <= 4.9 + 1e-9, "\(elapsed) s at 1 MiB/s (user \(userRate), server \(serverRate))")
        }
    }

    @Test("a new rate applies from then on, and what accrued stays up to the new burst")
    func rateChange() {
        let clock = ManualClock()
        let bucket = clock.bucket(rate: mebibyte)
        let throttle = clock.throttle(bucket)
        throttle.pay(Int(mebibyte))
        bucket.setRate(4 * mebibyte)
        #expect(bucket.rate == 4 * mebibyte)
        let start = clock.now
        throttle.pay(Int(4 * mebibyte))
        #expect(abs(seconds(clock.now - start) - 1.0) < 0.002)
        bucket.setRate(mebibyte / 2)
        clock.advance(.seconds(10))
        #expect(bucket.take(Int(mebibyte / 20)) == .zero, "full at the new burst")
        #expect(bucket.take(1) > .zero, "and no more")
    }

    @Test("waits under 1 ms are left as debt and slept with the next")
    func shortWaitsAccumulate() {
        let clock = ManualClock()
        let throttle = clock.throttle(clock.bucket(rate: 100 * mebibyte))
        throttle.pay(Int(10 * mebibyte))  // the burst
        throttle.pay(50_000)               // 0.48 ms of debt: not slept
        #expect(clock.slept.isEmpty)
        throttle.pay(60_000)               // 1.05 ms in all
        #expect(clock.slept.count == 1)
        #expect(abs(seconds(clock.slept[0]) - 110_000.0 / Double(100 * mebibyte)) < 1e-6)
    }

    @Test("threads sharing a real bucket keep to its rate: 4 × 6 MiB at 48 MiB/s")
    func threadsOnARealClock() throws {
        let rate = 48 * mebibyte
        let bucket = TokenBucket(rate: rate)
        let throttle = BodyThrottle([bucket])
        let perThread = Int(6 * mebibyte)
        let group = DispatchGroup()
        let started = ContinuousClock.now
        for _ in 0..<4 {
            group.enter()
            Thread {
                var left = perThread
                while left > 0 {
                    let piece = min(left, throttle.slice)
                    throttle.pay(piece)
                    left -= piece
                }
                group.leave()
            }.start()
        }
        #expect(group.wait(timeout: .now() + 10) == .success)
        let elapsed = seconds(ContinuousClock.now - started)
        let ideal = (Double(4 * perThread) - TokenBucket.burst(of: rate)) / Double(rate)
        // Never faster than the limit; on a loaded machine, late wake-ups are made up for by the burst.
        #expect(elapsed >= ideal * 0.99 && elapsed < ideal * 1.3 + 0.1, "\(elapsed) s, ideal \(ideal) s")
    }
}
