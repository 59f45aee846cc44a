@testable import FerryClient
import FerryCrypto
import FerryWire
import Foundation
import Testing

/// The disk fills up in the middle of an upload: a tmpfs of 4 MiB as the share, filled by someone
/// else while the body is arriving. Needs root to mount (as CI and the dev machines have).
@Suite(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
struct DiskFullTests {
    @Test func aDiskThatFillsMidUploadIsAnErrorAndLeavesNothing() throws {
        let server = try TestServer()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=4m", "tmpfs", server.share.path]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount failed")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = [server.share.path]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        // The server opened its root before the mount; serve the mounted directory instead.
        let ferryd = try TestServer(sharePath: server.share.path)
        try Data("keep".utf8).write(to: ferryd.url("old.bin"))

        let body = Array(try randomBytes(3 << 20))
        let session = try ferryd.login()
        let raw = RawClient(session)
        try raw.send(.put(PutRequest(path: "old.bin", size: UInt64(body.count), md5: Digest.hash(.md5, body).hexString)))
        #expect(try raw.receive() == .ready, "3 MiB fits in 4 MiB when asked")
        try raw.sendRaw(Array(body[..<(1 << 20)]))
        // Someone else takes the rest of the space.
        let filler = FileHandle(forWritingAtPath: { () -> String in
            let path = ferryd.url("filler").path
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return path
        }())!
        while (try? filler.write(contentsOf: Data(count: 256 << 10))) != nil {}
        try? filler.close()
        try raw.sendRaw(Array(body[(1 << 20)...]))
        guard case .error(let reply) = try raw.receive() else { Issue.record("expected an error"); return }
        #expect(reply.code == .tooLarge)
        #expect(try String(contentsOf: ferryd.url("old.bin"), encoding: .utf8) == "keep")
        #expect(try ferryd.names() == ["filler", "old.bin"], "no temporary file is left")
        #expect(try session.list("").entries.count == 2, "the session goes on")
        session.close()
    }
}
