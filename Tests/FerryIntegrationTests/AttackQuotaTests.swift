import FerryWire
import Foundation
import Testing

/// Ways around the quota that an attack found: room freed under an upload in flight handed out twice,
/// a user over quota locked out of shrinking, and files too deep for the first count. The test server's
/// "limited" user has 1 MiB.
@Suite struct AttackQuotaTests {
    static let KiB = 1024

    /// Bytes in regular files under the share, at any depth.
    static func shareBytes(_ server: TestServer) -> Int {
        let files = FileManager.default.enumerator(at: server.share, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey])
        var total = 0
        while let url = files?.nextObject() as? URL {
            let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
            if values?.isRegularFile == true { total += values?.fileSize ?? 0 }
        }
        return total
    }

    /// One round of the attack: connection A replaces f (900 KiB) with 900 KiB and waits after `ready`;
    /// B shrinks f to nothing; C asks for 900 KiB in a new file. Before the fix C got the room B freed
    /// although A still needed it, and five rounds stored 5.5 MB under the 1 MiB quota.
    @Test func roomFreedUnderAnUploadInFlightIsNotHandedOutTwice() throws {
        let server = try TestServer()
        let a = try HardConnection.loggedIn(server, user: "limited")
        let b = try HardConnection.loggedIn(server, user: "limited")
        let c = try HardConnection.loggedIn(server, user: "limited")
        #expect(errorCode(try a.put("f", Array(try randomBytes(900 * Self.KiB)))) == nil)

        for round in 0..<5 {
            let (ready, body) = try HardeningQuotaTests.startPut(a, "f", size: 900 * Self.KiB)
            #expect(ready == .ready, "round \(round): \(ready)")
            #expect(errorCode(try b.put("f", [])) == nil, "a put that lowers usage is let through")
            let grab = try c.put("g\(round)", Array(try randomBytes(900 * Self.KiB)))
            #expect(errorCode(grab) == .tooLarge, "round \(round): the room A still needs went to C: \(grab)")
            try a.sendBytes(body)
            let stored = try a.receive()
            #expect(errorCode(stored) == nil, "round \(round): \(stored)")
            #expect(Self.shareBytes(server) <= Int(TestServer.limitedQuota), "round \(round): \(Self.shareBytes(server)) bytes stored")
        }
    }

    @Test func aUserOverQuotaMayStillShrinkAFileButNotGrowAnything() throws {
        let server = try TestServer()
        // 2 MiB put there by another program: the first count finds the user over the 1 MiB quota.
        try randomBytes(2048 * Self.KiB).write(to: server.url("big.bin"))
        let limited = try HardConnection.loggedIn(server, user: "limited")
        #expect(errorCode(try limited.put("new.bin", [1])) == .tooLarge, "nothing may grow over quota")
        let smaller = try limited.put("big.bin", Array(try randomBytes(100 * Self.KiB)))
        #expect(errorCode(smaller) == nil, "shrinking gets the user back under the quota: \(smaller)")
        #expect(errorCode(try limited.put("new.bin", Array(try randomBytes(500 * Self.KiB)))) == nil, "and then there is room")
    }

    @Test func filesDeeperThanAnyLimitAreCounted() throws {
        let server = try TestServer()
        // 300 levels, deeper than the old scan went (256).
        let deep = (0..<300).map { _ in "d" }.joined(separator: "/")
        try FileManager.default.createDirectory(at: server.url(deep), withIntermediateDirectories: true)
        try randomBytes(900 * Self.KiB).write(to: server.url(deep + "/hidden-weight.bin"))
        let limited = try HardConnection.loggedIn(server, user: "limited")
        #expect(errorCode(try limited.put("more.bin", Array(try randomBytes(200 * Self.KiB)))) == .tooLarge,
                "900 KiB 300 levels down + 200 KiB is over 1 MiB")
        #expect(errorCode(try limited.put("fits.bin", Array(try randomBytes(100 * Self.KiB)))) == nil)
    }
}
