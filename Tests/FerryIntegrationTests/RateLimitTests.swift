@testable import FerryClient
import FerryPosix
@testable import FerryServer
import FerryTransport
import Foundation
import Testing

/// Bandwidth limits on a real ferryd: `rate_limit` per user (shared by the user's sessions), `max_rate`
/// for everyone, both at once, and the client's `--limit-rate`, measured by the time a known number of
/// bytes takes.
///
/// Every byte beyond a bucket's burst (1/10 s of its rate) and the slice each transfer may move
/// before paying for it has to wait for tokens, so no transfer can be faster than ``floor(_:rate:transfers:)``:
/// that bound is exact, and checked as it is. Above it, the time is allowed 10 % plus 0.4 s for what
/// a loaded machine adds (hashing, fsync, late wake-ups); on an idle one the times come within 2 % of
/// the ideal.
@Suite struct RateLimitTests {
    static let rate: UInt64 = 2 << 20

    /// The least time `bytes` can take through a limit of `rate` shared by `transfers`: all but the
    /// bucket's burst and one slice per transfer had to wait for tokens.
    static func floor(_ bytes: Int, rate: UInt64 = rate, transfers: Int = 1) -> Double {
        (Double(bytes) - TokenBucket.burst(of: rate) - Double(transfers * TokenBucket(rate: rate).slice)) / Double(rate)
    }

    /// The time it should take: every byte but the burst at the rate.
    static func ideal(_ bytes: Int, rate: UInt64 = rate) -> Double {
        (Double(bytes) - TokenBucket.burst(of: rate)) / Double(rate)
    }

    /// Checks `elapsed` against the floor and the ideal with its allowance.
    static func expectWithinLimit(_ elapsed: Double, bytes: Int, rate: UInt64 = rate, transfers: Int = 1, _ what: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        let least = floor(bytes, rate: rate, transfers: transfers)
        let most = ideal(bytes, rate: rate) * 1.10 + 0.4
        #expect(elapsed >= least, "\(what): \(elapsed) s, faster than the limit allows (\(least) s)", sourceLocation: sourceLocation)
        #expect(elapsed <= most, "\(what): \(elapsed) s, slower than the limit should make it (\(most) s)", sourceLocation: sourceLocation)
    }

    @Test func aUsersLimitHoldsForDownloadsAndUploadsAndTheProgressShowsIt() throws {
        let server = try TestServer(rateLimits: ["alice": Self.rate])
        let local = try LocalDirectory()
        let content = try randomBytes(3 << 20)
        try content.write(to: server.url("three.bin"))
        let session = try server.login()
        defer { session.close() }
        let progress = ProgressRecorder()
        let down = try timed { _ = try session.download("three.bin", to: LocalDestination(directory: local.path, name: "three.bin"), progress: progress) }
        Self.expectWithinLimit(down, bytes: content.count, "3 MiB down at 2 MiB/s")
        #expect(try Data(contentsOf: local.file("three.bin")) == content)
        // What the progress line shows: the rate over its last second is the limit, not a burst.
        let shown = try #require(progress.rate(over: .seconds(1)))
        #expect(abs(shown / Double(Self.rate) - 1) < 0.1, "progress showed \(shown / 1_048_576) MiB/s")

        let upload = try randomBytes(2 << 20)
        try upload.write(to: local.file("two.bin"))
        let up = try timed { _ = try session.upload(local.file("two.bin").path, to: "two.bin") }
        Self.expectWithinLimit(up, bytes: upload.count, "2 MiB up at 2 MiB/s")
        #expect(try Data(contentsOf: server.url("two.bin")) == upload)
    }

    @Test func aUsersLimitIsSharedByAllOfTheUsersSessions() throws {
        let server = try TestServer(tls: true, rateLimits: ["alice": Self.rate])
        let (times, progress) = try Self.concurrentDownloads(server, users: ["alice", "alice"], sizes: [2 << 20, 2 << 20])
        Self.expectWithinLimit(times.max()!, bytes: 4 << 20, transfers: 2, "two sessions of one user, 2 MiB each, 2 MiB/s in all")
        // Taking turns slice by slice, each got half while both ran.
        Self.expectEqualShares(progress)
    }

    @Test func maxRateIsSharedByEveryUser() throws {
        let server = try TestServer { $0.maxRate = Self.rate }
        let (times, progress) = try Self.concurrentDownloads(server, users: ["alice", "reader"], sizes: [2 << 20, 2 << 20])
        Self.expectWithinLimit(times.max()!, bytes: 4 << 20, transfers: 2, "two users, 2 MiB each, max_rate 2 MiB/s")
        Self.expectEqualShares(progress)
    }

    @Test func aByteNeedsTokensFromTheUsersLimitAndTheServersAtOnce() throws {
        // alice may have 1 MiB/s of the server's 2; reader takes what is left, then all of it.
        let server = try TestServer(rateLimits: ["alice": Self.rate / 2]) { $0.maxRate = Self.rate }
        let (times, _) = try Self.concurrentDownloads(server, users: ["alice", "reader"], sizes: [1 << 20, 2 << 20])
        Self.expectWithinLimit(times[0], bytes: 1 << 20, rate: Self.rate / 2, "alice's 1 MiB at her 1 MiB/s, though the server allows 2")
        Self.expectWithinLimit(times[1], bytes: 3 << 20, transfers: 2, "reader's 2 MiB in the server's 2 MiB/s, shared with alice")
    }

    @Test func theClientsLimitRateHoldsOnGetAndPut() throws {
        let server = try TestServer(tls: true)
        let local = try LocalDirectory()
        let content = try randomBytes(3 << 20)
        try content.write(to: server.url("down.bin"))
        try content.write(to: local.file("up.bin"))
        // Both at once, each in a ferry of its own with a limit of its own; each reports its time.
        let outcomes = Locked([String: CommandLineTests.Outcome]())
        let ferryd = Handoff(server)
        let directory = local.url
        let runs = [
            ("get", ["get", "--limit-rate", "2M", "down.bin"]),
            ("put", ["--limit-rate", "2M", "put", "up.bin", "/up.bin"]),
        ].map { name, arguments in
            onThread {
                let outcome = try? CommandLineTests().ferry(ferryd.value, arguments, in: directory)
                outcomes.withLock { $0[name] = outcome }
            }
        }
        for run in runs { #expect(run.wait(timeout: .now() + 30) == .success) }
        for (name, file) in [("get", "down.bin"), ("put", "up.bin")] {
            let outcome = try #require(outcomes.current[name])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let seconds = try #require(Self.reportedSeconds(of: file, in: outcome.stderr), "\(outcome.stderr)")
            Self.expectWithinLimit(seconds, bytes: content.count, "ferry \(name) --limit-rate 2M of 3 MiB, as it reported")
        }
        #expect(try Data(contentsOf: local.file("downloads/down.bin")) == content)
        #expect(try Data(contentsOf: server.url("up.bin")) == content)
    }

    @Test func theShellsLimitRateCommandHoldsForTheRestOfTheSession() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        let content = try randomBytes(2 << 20)
        try content.write(to: server.url("two.bin"))
        let shell = try CommandLineTests().ferry(server, [], input: """
            limit-rate
            limit-rate 2m
            get two.bin
            limit-rate off
            limit-rate
            -limit-rate fast
            -get --limit-rate=2X two.bin
            -get two.bin --limit-rate

            """, in: local.url)
        #expect(shell.status == 0, "\(shell.stderr)")
        #expect(shell.stdout.contains("ferry> limit-rate\nTransfers are not limited.\nferry> limit-rate 2m\nTransfers are limited to 2.00 MiB/s.\n"),
                "\(shell.stdout)")
        #expect(shell.stdout.contains("ferry> limit-rate off\nTransfers are not limited.\nferry> limit-rate\nTransfers are not limited.\n"),
                "\(shell.stdout)")
        let seconds = try #require(Self.reportedSeconds(of: "two.bin", in: shell.stderr), "\(shell.stderr)")
        Self.expectWithinLimit(seconds, bytes: content.count, "get of 2 MiB after limit-rate 2m, as ferry reported")
        #expect(try Data(contentsOf: local.file("downloads/two.bin")) == content)
        let notARate = "not a rate; give bytes per second, optionally with K, M or G (1024s), such as 500K"
        #expect(shell.stderr.contains("ferry: limit-rate fast: \(notARate)\n"))
        #expect(shell.stderr.contains("ferry: get --limit-rate 2X: \(notARate)\n"))
        #expect(shell.stderr.contains("ferry: get: --limit-rate needs a value (RATE)\n"))
    }

    @Test func framesAreNeverHeldUpByAThrottledTransfer() throws {
        // 32 KiB/s: a listing of 500 long names (over 100 KiB of frames) would take seconds if it had to
        // get tokens; it must not.
        let server = try TestServer(rateLimits: ["alice": 32 << 10])
        try randomBytes(1 << 20).write(to: server.url("big.bin"))
        try FileManager.default.createDirectory(at: server.url("many"), withIntermediateDirectories: true)
        let many = try File.openDirectory(path: server.url("many").path)
        let long = String(repeating: "a-name-long-enough-to-count-", count: 7)
        for index in 0..<500 { try File.createExclusive("\(long)\(index)", in: many).close() }
        try Data("small\n".utf8).write(to: server.url("small.txt"))
        let local = try LocalDirectory()
        let busy = try server.login()
        defer { busy.close() }
        let stop = busy.stopper
        let handoff = Handoff(busy)
        let target = LocalDestination(directory: local.path, name: "big.bin")
        let finished = onThread { _ = try? handoff.value.download("big.bin", to: target) }
        // Until the transfer has spent the burst and runs on tokens.
        Thread.sleep(forTimeInterval: 0.3)

        let other = try server.login()
        defer { other.close() }
        var entries = 0
        let listed = try timed { entries = try other.list("many").entries.count }
        #expect(entries == 500)
        #expect(listed < 1, "a listing took \(listed) s beside a throttled transfer of the same user")
        // A small body on the second session waits for its turn (a slice of the other's), not behind it.
        let small = try timed { _ = try other.download("small.txt", to: LocalDestination(directory: local.path, name: "small.txt")) }
        #expect(small < 1, "a 6-byte get took \(small) s beside a throttled transfer of the same user")

        #expect(finished.wait(timeout: .now()) == .timedOut, "1 MiB at 32 KiB/s is still going")
        stop()
        #expect(finished.wait(timeout: .now() + 10) == .success)
    }

    /// The seconds of the summary line `name  3.00 MiB in 1.42 s (2.11 MiB/s), …` that ferry printed
    /// for `name`.
    static func reportedSeconds(of name: String, in output: String) -> Double? {
        for line in output.split(separator: "\n") where line.hasPrefix(name + "  ") {
            guard let range = line.range(of: " in "), let end = line[range.upperBound...].range(of: " s (") else { continue }
            return Double(line[range.upperBound..<end.lowerBound])
        }
        return nil
    }

    // MARK: helpers

    /// Downloads a file of `sizes[i]` bytes as `users[i]`, all at once, each on a session of its own
    /// logged in beforehand: the seconds each took from a common start, and what its progress saw.
    static func concurrentDownloads(_ server: TestServer, users: [String], sizes: [Int]) throws -> ([Double], [ProgressRecorder]) {
        let local = try LocalDirectory()
        var contents: [Data] = []
        for (index, size) in sizes.enumerated() {
            contents.append(try randomBytes(size))
            try contents[index].write(to: server.url("file\(index).bin"))
        }
        let sessions = try users.map { try server.login($0) }
        defer { sessions.forEach { $0.close() } }
        let results = Locked([(Double, ProgressRecorder)?](repeating: nil, count: users.count))
        let start = DispatchSemaphore(value: 0)
        var finished: [DispatchSemaphore] = []
        for (index, session) in sessions.enumerated() {
            let handoff = Handoff(session)
            let target = LocalDestination(directory: local.path, name: "file\(index).bin")
            finished.append(onThread {
                start.wait()
                let began = ContinuousClock.now
                let progress = ProgressRecorder()
                guard (try? handoff.value.download("file\(index).bin", to: target, progress: progress)) != nil else { return }
                let elapsed = seconds(ContinuousClock.now - began)
                results.withLock { $0[index] = (elapsed, progress) }
            })
        }
        sessions.forEach { _ in start.signal() }
        for done in finished { #expect(done.wait(timeout: .now() + 30) == .success) }
        for (index, content) in contents.enumerated() {
            #expect(try Data(contentsOf: local.file("file\(index).bin")) == content)
        }
        let outcomes = try results.current.map { try #require($0, "a download failed") }
        return (outcomes.map(\.0), outcomes.map(\.1))
    }

    /// Checks that transfers sharing a limit of `rate` each got an equal share while all of them ran
    /// (from when the last began receiving to when the first was done), however far apart they began.
    static func expectEqualShares(_ progress: [ProgressRecorder], rate: UInt64 = rate, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let from = progress.compactMap(\.firstUpdate).max(), let to = progress.compactMap(\.lastUpdate).min() else {
            Issue.record("no progress", sourceLocation: sourceLocation)
            return
        }
        let share = Double(rate) / Double(progress.count)
        for (index, recorder) in progress.enumerated() {
            guard let measured = recorder.rate(from: from, to: to) else {
                Issue.record("transfer \(index): too few updates while all ran", sourceLocation: sourceLocation)
                continue
            }
            #expect(abs(measured / share - 1) < 0.2, "transfer \(index) got \(measured / 1_048_576) MiB/s, not an equal share", sourceLocation: sourceLocation)
        }
    }
}

/// Seconds `body` took.
private func timed(_ body: () throws -> Void) throws -> Double {
    let began = ContinuousClock.now
    try body()
    return seconds(ContinuousClock.now - began)
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Keeps every progress update of the receiving phase with its time, as the progress line sees them.
final class ProgressRecorder: TransferProgress {
    private var updates: [(time: ContinuousClock.Instant, done: UInt64)] = []

    func begin(name: String, total: UInt64, phase: String) { updates = [] }
    func update(done: UInt64) { updates.append((.now, done)) }
    func finish(name: String, bytes: UInt64, seconds: Double) {}
    func abandon() {}

    /// When the first bytes arrived (the update at the start of a phase reports none).
    var firstUpdate: ContinuousClock.Instant? { updates.first { $0.done > 0 }?.time }
    var lastUpdate: ContinuousClock.Instant? { updates.last?.time }

    /// Bytes per second over the last `window` of updates.
    func rate(over window: Duration) -> Double? {
        guard let last = updates.last else { return nil }
        return rate(from: last.time - window, to: last.time)
    }

    /// Bytes per second between the first update at or after `from` and the last at or before `to`.
    func rate(from: ContinuousClock.Instant, to: ContinuousClock.Instant) -> Double? {
        guard let first = updates.first(where: { $0.time >= from }), let last = updates.last(where: { $0.time <= to }),
              last.time > first.time else { return nil }
        return Double(last.done - first.done) / seconds(last.time - first.time)
    }
}
