#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryWire
import Foundation
import Testing

/// Single frames (or share contents) that made ferryd build a reply larger than a frame, which trapped
/// the whole process. Each runs against the ferryd binary, so a trap shows as a dead daemon rather than a
/// dead test runner, and each ends by logging in on a fresh connection: the daemon still serves others.
@Suite struct AttackCrashTests {
    @Test func anAuthStartWithASixtyFourKilobyteNonceIsRefusedNotEchoed() throws {
        let daemon = try FerrydProcess()
        let connection = try HardConnection(port: daemon.port, tls: true)
        // 93 bytes of JSON around the nonce: the frame fits, the challenge echoing it (106 bytes more) would not.
        let nonce = String(repeating: "N", count: 65_435)
        try connection.sendJSON(#"{"type":"auth_start","mechanism":"SCRAM-SHA-256-PLUS","message":"p=tls-exporter,,n=carol,r="# + nonce + #""}"#)
        let reply = try connection.receiveError()
        #expect(reply.code == .badRequest)
        #expect(reply.message.contains("nonce longer than"), "\(reply.message)")
        #expect(connection.closedByServer(within: .seconds(3)))
        #expect(daemon.servesOthers())
    }

    @Test func anUnknownTypeOfOneHugeGraphemeGetsAnErrorThatFitsAFrame() throws {
        let daemon = try FerrydProcess()
        // 32,735 two-byte marks: each request fits a frame, an error quoting it whole would not.
        let grapheme = "a" + String(repeating: "\u{301}", count: 32_735)
        for json in [#"{"type":""# + grapheme + #""}"#,
                     #"{"type":"auth_start","mechanism":""# + grapheme + #"","message":"n,,n=carol,r=abc"}"#] {
            let connection = try HardConnection(port: daemon.port, tls: true)
            try connection.sendJSON(json)
            let reply = try connection.receiveError()
            #expect([ErrorCode.badRequest, .unsupported].contains(reply.code), "\(reply)")
            #expect(reply.message.utf8.count <= ErrorReply.maximumMessageLength)
            #expect(reply.message.hasSuffix("…"))
        }
        // The same after login, where unknown types are answered and the session goes on.
        let session = try daemon.carol()
        try session.sendJSON(#"{"type":""# + grapheme + #""}"#)
        let reply = try session.receiveError()
        #expect(reply.code == .badRequest && reply.message.utf8.count <= ErrorReply.maximumMessageLength)
        #expect(try session.list("").entries.isEmpty, "that session goes on")
        #expect(daemon.servesOthers())
    }

    @Test func deeplyNestedJSONIsRefusedNotRecursedInto() throws {
        let daemon = try FerrydProcess()
        let session = try daemon.carol()
        try session.sendJSON(#"{"type":"ls","path":"","x":"# + String(repeating: "[", count: 60_000) + "}")
        #expect(try session.receiveError().code == .badRequest)
        #expect(daemon.servesOthers())
    }

    /// A short client path that symlinks make resolve to a directory 300 levels of 255-byte names deep
    /// (about 77 KB): the reply that quotes the resolved path could not fit a frame.
    @Test func aShortPathThatSymlinksStretchTo77KilobytesIsRefused() throws {
        let daemon = try FerrydProcess()
        let name = String(repeating: "n", count: 255)
        let share = try File.openDirectory(path: daemon.share.path)
        defer { removeDeepTree(daemon.share.path) }
        // 20 symlinks s1 ... s20, each 15 directory levels further down than the one before.
        var current = share
        for hop in 1...20 {
            let target = Array(repeating: name, count: 15).joined(separator: "/") + "/s\(hop + 1)"
            #expect(symlinkat(target, current.rawValue, "s\(hop)") == 0)
            for _ in 0..<15 {
                if mkdirat(current.rawValue, name, 0o755) != 0 && errno != EEXIST { throw HardUnexpected("mkdirat: \(errno)") }
                current = try File.openDirectory(name, in: current)
            }
        }
        #expect(mkdirat(current.rawValue, "s21", 0o755) == 0, "the last hop is a plain directory")
        let last = try File.openDirectory("s21", in: current)
        let fd = openat(last.rawValue, "f.txt", O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0)
        close(fd)

        let session = try daemon.carol()
        let put = try session.put("s1/stored.txt", Array("payload".utf8))
        #expect(errorCode(put) == .invalidPath, "got \(put)")
        #expect(throws: ErrorReply.self) { try session.get("s1/f.txt") }
        #expect(throws: ErrorReply.self) { try session.list("s1") }
        #expect(try session.list("").entries.map(\.name).contains("s1"), "the session goes on")
        #expect(daemon.servesOthers())
    }

}

/// Removes a tree too deep for FileManager (paths past PATH_MAX): GNU rm walks it with *at() calls.
func removeDeepTree(_ path: String) {
    let rm = Process()
    rm.executableURL = URL(fileURLWithPath: "/bin/rm")
    rm.arguments = ["-rf", path]
    try? rm.run()
    rm.waitUntilExit()
}
