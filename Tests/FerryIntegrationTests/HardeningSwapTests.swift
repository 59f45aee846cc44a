#if canImport(Glibc)
import Glibc
#endif
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// A directory inside the share swapped for a symlink that leads out of it, before, during and while
/// transfers run. The server resolves paths with openat(O_NOFOLLOW) and keeps the descriptors it
/// resolved, so a swap can change which directory a later request finds, never make it leave the root.
/// The test server's directory holds `share/` (the root) and here `share2/`, a sibling outside it.
@Suite struct HardeningSwapTests {
    static let insideBody = [UInt8](repeating: 0x49, count: 4096)   // "IIII…"
    static let outsideBody = [UInt8](repeating: 0x4F, count: 4096)  // "OOOO…"

    /// `share/d/f` holds insideBody; `share2/f` outsideBody; `share/d` can be swapped for a symlink to `../share2`.
    struct Fixture {
        let server: TestServer
        let directory: URL
        let parked: URL
        let outside: URL

        init() throws {
            server = try TestServer()
            directory = server.url("d")
            parked = server.url("d.real")
            outside = server.directory.appendingPathComponent("share2")
            let manager = FileManager.default
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            try manager.createDirectory(at: outside, withIntermediateDirectories: true)
            try Data(insideBody).write(to: directory.appendingPathComponent("f"))
            try Data(outsideBody).write(to: outside.appendingPathComponent("f"))
        }

        /// `d` becomes a symlink to `../share2`; the real directory is parked as `d.real`.
        func swapToSymlink() {
            #expect(rename(directory.path, parked.path) == 0)
            #expect(symlink("../share2", directory.path) == 0)
        }
    }

    @Test func transfersInFlightStayInTheDirectoryTheyResolved() throws {
        let fixture = try Fixture()
        let big = Array(try randomBytes(4 << 20))
        try Data(big).write(to: fixture.directory.appendingPathComponent("big"))
        let outsideBefore = treeSnapshot(fixture.server.directory, excluding: ["share"])
        let getter = try HardConnection.loggedIn(fixture.server)
        let putter = try HardConnection.loggedIn(fixture.server)

        // Both transfers start against the real directory and stop half way.
        try getter.send(.get(PathRequest(path: "d/big")))
        var message = try getter.receive()
        while case .preparing = message { message = try getter.receive() }
        guard case .file(let header) = message else { throw HardUnexpected("expected file, got \(message)") }
        var received = try getter.readBody(header.size / 2)

        let upload = Array(try randomBytes(2 << 20))
        try putter.send(.put(PutRequest(path: "d/up.bin", size: UInt64(upload.count), md5: md5Hex(upload))))
        #expect(try putter.receive() == .ready)
        try putter.sendBytes(Array(upload[..<(upload.count / 2)]))

        fixture.swapToSymlink()

        received += try getter.readBody(header.size - UInt64(received.count))
        #expect(received == big, "the get went on reading the file it opened")
        try putter.sendBytes(Array(upload[(upload.count / 2)...]))
        let stored = try putter.receive(timeout: .seconds(20))
        guard case .stored = stored else { throw HardUnexpected("expected stored, got \(stored)") }
        let landed = try Data(contentsOf: fixture.parked.appendingPathComponent("up.bin"))
        #expect(Array(landed) == upload, "the upload landed in the directory resolved at its start")

        // After the swap the same paths lead out of the root: refused, for every command.
        for connection in [getter, putter] {
            do {
                _ = try connection.get("d/f")
                Issue.record("get d/f was served through the symlink")
            } catch let reply as ErrorReply {
                #expect(reply.code == .permissionDenied, "get: \(reply.code) \(reply.message)")
            }
            #expect(errorCode(try connection.put("d/new", Array("x".utf8))) == .permissionDenied)
            do {
                let listing = try connection.list("d")
                Issue.record("ls d listed \(listing.entries.map(\.name)) through the symlink")
            } catch let reply as ErrorReply {
                #expect(reply.code == .permissionDenied, "ls: \(reply.code) \(reply.message)")
            }
        }
        #expect(treeSnapshot(fixture.server.directory, excluding: ["share"]) == outsideBefore, "nothing outside was written")
        #expect(temporaryFiles(under: fixture.server.directory).isEmpty)
    }

    @Test func racingSwapsNeverLeadOutOfTheRoot() throws {
        let fixture = try Fixture()
        // Seen in any listing made through the symlink.
        try Data().write(to: fixture.outside.appendingPathComponent("outside-marker"))
        let outsideBefore = treeSnapshot(fixture.server.directory, excluding: ["share"])
        let stop = Locked(false)
        let swaps = Locked(0)
        let directory = fixture.directory.path, parked = fixture.parked.path
        // Flips `d` between the real directory, nothing, and a symlink out of the root, as fast as it can.
        // (A directory cannot be renamed over a symlink, hence the unlink.)
        let swapperDone = onThread {
            while !stop.current {
                guard rename(directory, parked) == 0, symlink("../share2", directory) == 0 else { break }
                usleep(100)
                guard unlink(directory) == 0, rename(parked, directory) == 0 else { break }
                swaps.withLock { $0 += 1 }
                usleep(100)
            }
        }
        defer {
            stop.withLock { $0 = true }
            _ = swapperDone.wait(timeout: .now() + 5)
        }

        let connection = try HardConnection.loggedIn(fixture.server)
        var served = 0, stored = 0, refusedThroughLink = 0
        let upload = Array("uploaded while swapping\n".utf8)
        // not_directory too: a lookup that met the symlink where it had just seen a directory.
        let allowed: Set<ErrorCode> = [.permissionDenied, .notFound, .notDirectory]
        for round in 0..<200 {
            do {
                let (_, body) = try connection.get("d/f")
                #expect(body == Self.insideBody, "round \(round): get d/f returned bytes that are not the inside file")
                served += 1
            } catch let reply as ErrorReply {
                #expect(allowed.contains(reply.code), "get: \(reply.code) \(reply.message)")
                if reply.code != .notFound { refusedThroughLink += 1 }
            }
            let answer = try connection.put("d/up\(round)", upload)
            if case .stored = answer { stored += 1 } else {
                #expect(allowed.contains(errorCode(answer) ?? .internal), "put: \(answer)")
                if errorCode(answer) != .notFound { refusedThroughLink += 1 }
            }
            do {
                let names = try connection.list("d").entries.map(\.name)
                #expect(names.allSatisfy { $0 == "f" || $0.hasPrefix("up") }, "ls d listed \(names)")
            } catch let reply as ErrorReply {
                #expect(allowed.contains(reply.code), "ls: \(reply.code) \(reply.message)")
                if reply.code != .notFound { refusedThroughLink += 1 }
            }
        }
        stop.withLock { $0 = true }
        #expect(swapperDone.wait(timeout: .now() + 5) == .success)
        #expect(FileManager.default.fileExists(atPath: directory), "the swapper ended with the real directory in place")

        let swapCount = swaps.current
        print("racing swaps: \(swapCount) swaps; get served \(served) of 200; \(stored) puts stored; \(refusedThroughLink) refusals at the symlink")
        #expect(swapCount > 100, "too few swaps for a race: \(swapCount)")
        #expect(refusedThroughLink > 0, "no request ever met the symlink, so the race was not exercised")
        #expect(served > 0 && stored > 0, "no request ever met the real directory")
        #expect(treeSnapshot(fixture.server.directory, excluding: ["share"]) == outsideBefore, "nothing outside was written")
        #expect(temporaryFiles(under: fixture.server.directory).isEmpty)
        let uploads = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("up") }
        #expect(uploads.count == stored, "the server said it stored \(stored) uploads; the share holds \(uploads.count)")
    }
}
