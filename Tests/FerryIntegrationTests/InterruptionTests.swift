@testable import FerryClient
import FerryPosix
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// Processes killed half way: what is left on disk.
@Suite struct InterruptionTests {
    @Test func ctrlCDuringAGetLeavesNoFileAtAll() throws {
        let server = try TestServer()
        let size: UInt64 = 1 << 30
        #expect(FileManager.default.createFile(atPath: server.url("big.bin").path, contents: nil))
        let handle = try FileHandle(forWritingTo: server.url("big.bin"))
        try handle.truncate(atOffset: size)
        try handle.close()
        // Skip the server's first hashing pass: the transfer is interrupted long before the check.
        let status = try FileStatus.of(File.openForReading(path: server.url("big.bin").path))
        server.server.digests.store(String(repeating: "0", count: 32), for: status)

        let local = try LocalDirectory()
        let ferry = Process()
        ferry.executableURL = CommandLineTests.products.appendingPathComponent("ferry")
        ferry.arguments = ["--port", "\(server.port)", "--user", "alice", "--quiet", "get", "big.bin", local.path]
        ferry.environment = ["FERRY_PASSWORD": TestServer.password]
        try ferry.run()
        try waitUntil { (try? local.names())?.contains { $0.hasSuffix(".part") } ?? false }
        kill(ferry.processIdentifier, SIGINT)
        ferry.waitUntilExit()
        #expect(ferry.terminationStatus == 128 + SIGINT)
        #expect(try local.names().isEmpty, "neither the final name nor the hidden partial file remains")
    }

    @Test func aFerrydKilledMidUploadLeavesOnlyAHiddenFileThatTheNextStartRemoves() throws {
        let local = try LocalDirectory()
        let config = try DaemonTests.configWithCarol(in: local)
        try Data("old".utf8).write(to: local.file("share/doc.bin"))
        let (first, _, port) = try DaemonTests.start(config: config)
        let session = try ClientSession.connect(host: "127.0.0.1", port: port)
        try session.login(user: "carol", password: "pw")
        let raw = RawClient(session)
        try raw.send(.put(PutRequest(path: "doc.bin", size: 1 << 20, md5: String(repeating: "0", count: 32))))
        #expect(try raw.receive() == .ready)
        try raw.sendRaw(Array(repeating: 1, count: 100_000))
        let hidden = { (try? FileManager.default.contentsOfDirectory(atPath: local.file("share").path))?
            .filter { $0.hasPrefix(".ferry-upload-") } ?? [] }
        try waitUntil { !hidden().isEmpty }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(hidden().count == 1, "a crash leaves the hidden temporary file")
        #expect(try String(contentsOf: local.file("share/doc.bin"), encoding: .utf8) == "old")

        let (second, _, _) = try DaemonTests.start(config: config)
        defer { second.terminate(); second.waitUntilExit() }
        #expect(hidden().isEmpty, "the next start removes it")
        #expect(try String(contentsOf: local.file("share/doc.bin"), encoding: .utf8) == "old")
    }
}
