import FerryClient
import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Clients that try to use up the server: silent sockets, a reader that stops, a request flood, and
/// huge directories.
@Suite struct HardeningResourceTests {
    @Test func fiveHundredSilentSocketsAreClosedByTheLoginTimeoutWhileARealClientWorks() throws {
        let loginTimeout = Duration.milliseconds(1500)
        // The limits on connections waiting to log in are raised here: this is about the login timeout.
        let server = try TestServer {
            $0.loginTimeout = loginTimeout
            $0.maxPendingLogins = 1000
            $0.maxPendingLoginsPerAddress = 1000
        }
        let content = Array(try randomBytes(1 << 20))
        try Data(content).write(to: server.url("payload.bin"))
        let started = ContinuousClock.now
        let count = 500
        let silent = try (0..<count).map { _ in try Socket.connect(host: "127.0.0.1", port: server.port, timeout: .seconds(5)) }
        defer { silent.forEach { $0.close() } }
        #expect(eventually { server.server.connectionCount == count })

        // Meanwhile a real client logs in and downloads, while all of them are still there.
        let active = try HardConnection.loggedIn(server)
        let (header, body) = try active.get("payload.bin")
        #expect(header.size == UInt64(content.count) && body == content)
        #expect(server.server.connectionCount == count + 1, "the real client was served before the silent ones timed out")

        // Every silent socket is closed by the server: hello, perhaps the timeout error, then end of stream.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { buffer.deallocate() }
        let deadline = ContinuousClock.now + loginTimeout + .seconds(5)
        var closed = 0
        for socket in silent {
            reading: while true {
                let left = deadline - .now
                guard left > .zero else { break reading }
                do {
                    if try socket.read(into: buffer, timeout: left) == 0 { closed += 1; break reading }
                } catch is TimeoutError {
                    break reading
                } catch {
                    closed += 1
                    break reading
                }
            }
        }
        #expect(closed == count, "only \(closed) of \(count) silent sockets were closed")
        #expect(eventually { server.server.connectionCount == 1 }, "\(server.server.connectionCount) connections left")
        // The logged-in client is past the login timeout and still served.
        #expect(ContinuousClock.now - started > loginTimeout)
        #expect(try active.list("").entries.map(\.name) == ["payload.bin"])
    }

    @Test func aClientThatStopsReadingADownloadIsClosedByTheStallTimeout() throws {
        let server = try TestServer { $0.stallTimeout = .milliseconds(500) }
        let size = 32 << 20
        #expect(FileManager.default.createFile(atPath: server.url("big.bin").path, contents: nil))
        let handle = try FileHandle(forWritingTo: server.url("big.bin"))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        try Data("small".utf8).write(to: server.url("small.txt"))

        let other = try HardConnection.loggedIn(server)
        let stalled = try HardConnection.loggedIn(server)
        try stalled.send(.get(PathRequest(path: "big.bin")))
        var header: FileHeader?
        while header == nil {
            switch try stalled.receive(timeout: .seconds(10)) {
            case .preparing: continue
            case .file(let file): header = file
            case let unexpected: Issue.record("expected file, got \(unexpected)"); return
            }
        }
        #expect(header?.size == UInt64(size))
        let stoppedReading = ContinuousClock.now
        #expect(server.server.connectionCount == 2)

        // The other client is served while the stalled one holds its socket buffers full.
        let (_, small) = try other.get("small.txt")
        #expect(small == Array("small".utf8))
        #expect(eventually(within: .seconds(5)) { server.server.connectionCount == 1 }, "the stalled download was not closed")
        let elapsed = ContinuousClock.now - stoppedReading
        #expect(elapsed >= .milliseconds(400), "closed after \(elapsed), before the stall timeout")
        #expect(try other.list("").entries.count == 2, "and the other client goes on")
        // The stalled client sees a short body: fewer than `size` bytes, then the end.
        let received = try stalled.readBody(UInt64(size), timeout: .seconds(5))
        #expect(received.count < size)
    }

    @Test func aFloodOfTwentyThousandStatFramesIsAnsweredOrClosedNeverACrash() throws {
        let server = try TestServer()
        try Data("x".utf8).write(to: server.url("f.txt"))
        let count = 20_000
        let flooder = try HardConnection.loggedIn(server)
        let frame = try HardConnection.frame(.stat(PathRequest(path: "f.txt")))
        let flood = Array((0..<count).map { _ in frame }.joined())
        let socket = flooder.socket
        let writeOutcome = Locked<String>("pending")
        let written = onThread {
            do {
                try flood.withUnsafeBytes { try socket.write($0, timeout: .seconds(20)) }
                writeOutcome.withLock { $0 = "written" }
            } catch {
                writeOutcome.withLock { $0 = "\(error)" }
            }
        }
        var answered = 0
        var wrong: Message?
        var ended: String?
        reading: while answered < count {
            do {
                let message = try flooder.receive(timeout: .seconds(10))
                guard case .entry(let entry) = message, entry.entry.name == "f.txt" else { wrong = message; break reading }
                answered += 1
            } catch {
                ended = "\(error)"
                break reading
            }
        }
        #expect(written.wait(timeout: .now() + 20) == .success)
        #expect(wrong == nil, "an answer that is not the entry: \(String(describing: wrong))")
        #expect(answered == count || ended != nil, "\(answered) answered; \(ended ?? "")")
        #expect(answered == count, "all \(count) answered (\(answered)); connection ended by: \(ended ?? "-"); writer: \(writeOutcome.current)")
        #expect(try HardConnection.loggedIn(server).list("").entries.map(\.name) == ["f.txt"], "the server serves others")
    }

    @Test func aListingOfTwentyThousandEntriesComesWholeInSeveralFrames() throws {
        let server = try TestServer()
        try createEmptyFiles(20_000, in: server.url("big"))
        let connection = try HardConnection.loggedIn(server)
        let listing = try connection.list("big", timeout: .seconds(20))
        #expect(listing.entries.count == 20_000)
        #expect(Set(listing.entries.map(\.name)).count == 20_000, "no duplicates")
        #expect(!listing.truncated)
        #expect(listing.frames > 1, "\(listing.frames) frames")
        #expect(listing.entries.allSatisfy { $0.kind == .file && $0.size == 0 })
        let client = try server.login()
        let viaClient = try client.list("big")
        #expect(viaClient.entries.count == 20_000 && !viaClient.truncated, "the client's list gathers every frame")
        #expect(try connection.list("").entries.map(\.name) == ["big"], "the session goes on")
    }

    @Test func aHundredThousandEntryListingKeepsFerrydsMemoryBounded() throws {
        let local = try LocalDirectory()
        let config = try DaemonTests.configWithCarol(in: local)
        try createEmptyFiles(100_000, in: local.file("share/big"))
        let (daemon, log, port) = try DaemonTests.start(config: config)
        defer { if daemon.isRunning { daemon.terminate() } }
        let session = try ClientSession.connect(host: "127.0.0.1", port: port, security: try DaemonTests.pinned(log))
        try session.login(user: "carol", password: "pw")
        _ = try session.list("")
        let before = try Self.peakResidentKiB(of: daemon.processIdentifier)

        let listing = try session.list("big")
        #expect(listing.entries.count == 100_000 && !listing.truncated)
        #expect(Set(listing.entries.map(\.name)).count == 100_000, "no duplicates")
        let growth = try Self.peakResidentKiB(of: daemon.processIdentifier) - before
        // The listing is about 5 MB of JSON; a server that gathered it would grow by several times that.
        #expect(growth < 4 * 1024, "ferryd's peak RSS grew by \(growth) KiB while listing 100,000 entries")
    }

    /// VmHWM of a process, in KiB.
    static func peakResidentKiB(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else {
            throw HardUnexpected("no VmHWM in /proc/\(pid)/status")
        }
        return kib
    }

    @Test func aListingStopsAtMaxListEntriesAndSaysTruncated() throws {
        let server = try TestServer { $0.maxListEntries = 1000 }
        try createEmptyFiles(20_000, in: server.url("big"))
        let connection = try HardConnection.loggedIn(server)
        let listing = try connection.list("big", timeout: .seconds(20))
        #expect(listing.entries.count == 1000)
        #expect(Set(listing.entries.map(\.name)).count == 1000)
        #expect(listing.truncated)
        #expect(listing.frames > 1)
        let viaClient = try server.login().list("big")
        #expect(viaClient.entries.count == 1000 && viaClient.truncated)
        // Exactly at the limit is not truncated.
        try createEmptyFiles(1000, in: server.url("exact"))
        let exact = try connection.list("exact")
        #expect(exact.entries.count == 1000 && !exact.truncated)
    }
}
