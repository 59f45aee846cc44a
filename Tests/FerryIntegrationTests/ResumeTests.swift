@testable import FerryClient
import FerryCrypto
import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Chunk-verified transfers (feature `chunks`) cut half way: by a relay that ends the connection at an
/// exact byte, by a killed daemon, by a damaged partial or a file changed meanwhile. Whatever happens,
/// nothing appears under the final name before the whole file is verified (an older file of that name
/// stays as it was), the chunks verified so far wait in a hidden partial, the next attempt moves only
/// the others, and once it succeeds no hidden file is left on either side.
@Suite struct ResumeTests {
    static let chunk = ChunkGrid.size
    /// 13 MiB and 5 bytes: four chunks, of 4, 4, 4 and 1 MiB + 5 bytes.
    static let size = 13 * (1 << 20) + 5

    // MARK: get

    enum GetCut: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case inTheManifest, midFirstChunk, rightAfterSecondChunk, insideLastChunk
        var testDescription: String { rawValue }
        /// Chunks verified before the cut.
        var verified: Int {
            switch self {
            case .inTheManifest, .midFirstChunk: 0
            case .rightAfterSecondChunk: 2
            case .insideLastChunk: 3
            }
        }
    }

    @Test(arguments: GetCut.allCases)
    func aCutGetLeavesTheOldFileAloneAndTheNextGetFetchesOnlyTheChunksNotVerified(_ cut: GetCut) throws {
        let setup = try GetSetup()
        let first = try setup.relayedSession()
        let login = setup.relay.passed(1).serverToClient
        let at: UInt64
        switch cut {
        case .inTheManifest: at = login + 100
        case .midFirstChunk: at = login + (try setup.bodyStart(of: 0)) + UInt64(Self.chunk / 2)
        case .rightAfterSecondChunk: at = login + (try setup.end(of: 1))
        case .insideLastChunk: at = login + (try setup.bodyStart(of: 3)) + 1000
        }
        setup.relay.cut(connection: 1, .serverToClient, after: at)
        let error = try #require(throws: ClientError.self) { try first.download("doc.bin", to: setup.destination) }
        #expect(error.code == nil, "a cut connection is not a refusal: \(error)")
        #expect(setup.relay.passed(1).serverToClient == at)
        try setup.expectOldFileAndPartial(verified: cut.verified)

        let result = try setup.resume(verified: cut.verified)
        #expect(result.resumedBytes == UInt64(cut.verified * Self.chunk))
    }

    @Test func aGetCutInsideTLSResumesFromTheVerifiedChunks() throws {
        let setup = try GetSetup(tls: true)
        let first = try setup.relayedSession()
        // TLS adds 22 bytes to every record of up to 16 KiB: 6 MiB on the wire is well inside chunk 1.
        setup.relay.cut(connection: 1, .serverToClient, after: setup.relay.passed(1).serverToClient + 6 << 20)
        let error = try #require(throws: ClientError.self) { try first.download("doc.bin", to: setup.destination) }
        #expect(error.code == nil, "\(error)")
        try setup.expectOldFileAndPartial(verified: 1)
        let result = try setup.resume(verified: 1)
        #expect(result.resumedBytes == UInt64(Self.chunk))
    }

    @Test func aByteFlippedInTheLocalPartialIsCaughtAndThatChunkFetchedAgain() throws {
        let setup = try GetSetup()
        let first = try setup.relayedSession()
        setup.relay.cut(connection: 1, .serverToClient, after: setup.relay.passed(1).serverToClient + (try setup.end(of: 1)))
        _ = try #require(throws: ClientError.self) { try first.download("doc.bin", to: setup.destination) }
        try setup.expectOldFileAndPartial(verified: 2)

        // Chunk 1 is claimed by the record, but its bytes on disk are no longer what was verified.
        let partial = setup.local.file(".doc.bin.ferrypart")
        let handle = try FileHandle(forUpdating: partial)
        let offset = UInt64(Self.chunk) + 12_345
        try handle.seek(toOffset: offset)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data([byte ^ 0xff]))
        try handle.close()

        let result = try setup.resume(verified: 1)
        #expect(result.resumedBytes == UInt64(Self.chunk), "only chunk 0 still checks out")
    }

    @Test func aFileReplacedOnTheServerBetweenAttemptsIsFetchedWholeNeverSpliced() throws {
        let setup = try GetSetup()
        let first = try setup.relayedSession()
        setup.relay.cut(connection: 1, .serverToClient, after: setup.relay.passed(1).serverToClient + (try setup.end(of: 1)))
        _ = try #require(throws: ClientError.self) { try first.download("doc.bin", to: setup.destination) }
        try setup.expectOldFileAndPartial(verified: 2)

        // Same size, same name, other bytes: put in place the way an editor saves, by a rename.
        let replacement = try randomBytes(Self.size)
        try replacement.write(to: setup.server.url("doc.bin.new"))
        #expect(rename(setup.server.url("doc.bin.new").path, setup.server.url("doc.bin").path) == 0)

        let notices = Lines()
        let second = try setup.relayedSession()
        second.notices = notices.append
        let result = try second.download("doc.bin", to: setup.destination)
        #expect(notices.all.contains { $0.contains("doc.bin changed on the server") }, "notices: \(notices.all)")
        #expect(!notices.all.contains { $0.hasPrefix("resuming") }, "notices: \(notices.all)")
        #expect(result.resumedBytes == 0)
        #expect(result.bytes == UInt64(Self.size))
        #expect(try Data(contentsOf: setup.destination.url) == replacement, "the new version whole, nothing of the old")
        #expect(try setup.local.names() == ["doc.bin"])
    }

    // MARK: put

    enum PutCut: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case midChunk, atChunkBoundary, inLastChunk, rightBeforeCommit
        var testDescription: String { rawValue }
        /// Chunks the server has verified when the cut comes.
        var verified: Int {
            switch self {
            case .midChunk: 1
            case .atChunkBoundary: 2
            case .inLastChunk: 3
            case .rightBeforeCommit: 4
            }
        }
    }

    /// The cut comes at an exact byte of the client's stream, computed from the bytes of the login
    /// (counted by the relay) and the exact frames that follow. `rightBeforeCommit` lets through every
    /// byte up to the last one of the last chunk's body and not one more: the client has written its
    /// `commit` frame, but the server never sees it; all four chunks are verified and wait on the server.
    @Test(arguments: PutCut.allCases)
    func aCutPutLeavesTheOldFileAloneAndTheNextPutSendsOnlyTheChunksNotVerified(_ cut: PutCut) throws {
        let setup = try PutSetup()
        let first = try setup.relayedSession()
        let login = setup.relay.passed(1).clientToServer
        let at: UInt64
        switch cut {
        case .midChunk: at = login + (try setup.bodyStart(of: 1)) + UInt64(Self.chunk / 2)
        case .atChunkBoundary: at = login + (try setup.end(of: 1))
        case .inLastChunk: at = login + (try setup.bodyStart(of: 3)) + 1000
        case .rightBeforeCommit: at = login + (try setup.end(of: 3))
        }
        setup.relay.cut(connection: 1, .clientToServer, after: at)
        let error = try #require(throws: ClientError.self) { try first.upload(setup.sourcePath, to: "doc.bin") }
        #expect(error.code == nil, "a cut connection is not a refusal: \(error)")
        #expect(setup.relay.passed(1).clientToServer == at)
        try setup.expectOldFileAndPartial(verified: cut.verified)

        let result = try setup.resume(verified: cut.verified)
        #expect(result.resumedBytes == UInt64(min(cut.verified * Self.chunk, Self.size)))
    }

    @Test func aPutResumedAfterTheLocalFileChangedSendsTheChangedChunksAgain() throws {
        let setup = try PutSetup()
        let first = try setup.relayedSession()
        setup.relay.cut(connection: 1, .clientToServer, after: setup.relay.passed(1).clientToServer + (try setup.end(of: 1)))
        _ = try #require(throws: ClientError.self) { try first.upload(setup.sourcePath, to: "doc.bin") }
        try setup.expectOldFileAndPartial(verified: 2)

        // Same size, chunk 0 different: the server holds chunks 0 and 1, but only 1 is still ours.
        var changed = setup.source
        changed[100] ^= 0xff
        try changed.write(to: URL(fileURLWithPath: setup.sourcePath))
        let result = try setup.server.login().upload(setup.sourcePath, to: "doc.bin")
        #expect(result.resumedBytes == UInt64(Self.chunk))
        #expect(result.bytes == UInt64(Self.size - Self.chunk))
        #expect(try Data(contentsOf: setup.server.url("doc.bin")) == changed)
        #expect(try setup.server.names() == ["doc.bin"])
    }

    /// PROTOCOL.md 6.6.4 ("The partial"): after a network failure without a reset, the server holds
    /// the cut upload's lock until its stall timeout ends the old session, and "a client that resumes
    /// retries after `busy` for a while before it gives up". The relay here stops passing the
    /// client's bytes after one chunk; the client gives up after its own 1 s timeout; the server's
    /// stall timeout is 3 s. The second put waits out `busy` and resumes.
    @Test func aPutResumedWhileTheServerStillHoldsTheCutUploadWaitsOutBusy() throws {
        let setup = try PutSetup { $0.stallTimeout = .seconds(3) }
        let first = try ClientSession.connect(host: "127.0.0.1", port: setup.relay.port, timeout: .seconds(1), security: setup.server.security)
        try first.login(user: "alice", password: TestServer.password)
        // Nothing more reaches the server, not even the end of the connection (the server sends
        // nothing during an upload, so the other way may stay open).
        setup.relay.hold(connection: 1, .clientToServer, after: setup.relay.passed(1).clientToServer + (try setup.end(of: 0)))
        _ = try #require(throws: ClientError.self) { try first.upload(setup.sourcePath, to: "doc.bin") }
        try waitUntil { Self.claimedOnServer(setup.server.share) == 1 }

        let second = try setup.server.login()
        var notices: [String] = []
        second.notices = { notices.append($0) }
        let result = try second.upload(setup.sourcePath, to: "doc.bin")
        #expect(result.resumedBytes == UInt64(Self.chunk), "it waited for the old session to end, then took up its chunk")
        #expect(notices.first?.contains("still finishing an earlier attempt") == true, "\(notices)")
        #expect(try Data(contentsOf: setup.server.url("doc.bin")) == setup.source)
        #expect(try setup.server.names() == ["doc.bin"])
    }

    @Test func aChunkWithAWrongDigestIsListedAsMismatchedAndTheUploadGoesOnWhenItIsSentRight() throws {
        let server = try TestServer()
        let data = [UInt8](try randomBytes(Self.chunk + 1000))
        let chunks = [Array(data[..<Self.chunk]), Array(data[Self.chunk...])]
        let digests = chunks.map { Digest.hash(.sha256, $0) }
        let contentHash = ContentHash.of(digests).hexString
        let raw = RawClient(try server.login())

        try raw.send(.upload(UploadRequest(path: "w.bin", size: UInt64(data.count))))
        #expect(try raw.receive() == .partial(PartialPage(chunkCount: 2, held: [], more: false)))
        try raw.send(.chunk(ChunkHeader(index: 0, size: chunks[0].count, sha256: digests[0].hexString)))
        try raw.sendRaw(chunks[0])
        // Chunk 1's true bytes under the digest of other bytes.
        try raw.send(.chunk(ChunkHeader(index: 1, size: chunks[1].count, sha256: Digest.hash(.sha256, [1, 2, 3]).hexString)))
        try raw.sendRaw(chunks[1])
        try raw.send(.commit(CommitRequest(contentHash: contentHash)))
        let one = [ChunkRange(first: 1, count: 1)]
        #expect(try raw.receive() == .incomplete(Incomplete(chunks: one, mismatched: one)))
        #expect(!FileManager.default.fileExists(atPath: server.url("w.bin").path))

        try raw.send(.chunk(ChunkHeader(index: 1, size: chunks[1].count, sha256: digests[1].hexString)))
        try raw.sendRaw(chunks[1])
        try raw.send(.commit(CommitRequest(contentHash: contentHash)))
        #expect(try raw.receive() == .stored(Stored(path: "w.bin", size: UInt64(data.count), md5: nil, contentHash: contentHash)))
        #expect(try Data(contentsOf: server.url("w.bin")) == Data(data))

        // A chunk header past the grid: the server cannot know how many body bytes follow.
        try raw.send(.upload(UploadRequest(path: "x.bin", size: 5)))
        #expect(try raw.receive() == .partial(PartialPage(chunkCount: 1, held: [], more: false)))
        try raw.send(.chunk(ChunkHeader(index: 1, size: 5, sha256: Digest.hash(.sha256, Array("hello".utf8)).hexString)))
        guard case .error(let reply) = try raw.receive() else { Issue.record("no error for a chunk out of range"); return }
        #expect(reply.code == .badRequest)
        #expect(reply.message.contains("out of range"), "\(reply.message)")
        #expect(throws: ChannelClosed.self, "the server closes the connection") { try raw.receive() }

        let fresh = try server.login()
        #expect(try fresh.list("").entries.map(\.name) == ["w.bin"], "a fresh session is served")
        try waitUntil { server.server.connectionCount == 1 }
        #expect(try server.names() == ["w.bin"], "the empty partial of x.bin went with its connection")
    }

    @Test func aPartialNotResumedInTimeExpiresAndTheNextPutStartsOver() throws {
        let setup = try PutSetup { $0.uploadResumeTimeout = .seconds(1) }
        let first = try setup.relayedSession()
        setup.relay.cut(connection: 1, .clientToServer, after: setup.relay.passed(1).clientToServer + (try setup.end(of: 1)))
        _ = try #require(throws: ClientError.self) { try first.upload(setup.sourcePath, to: "doc.bin") }
        try setup.expectOldFileAndPartial(verified: 2)

        // The expiry runs every second and takes partials last written more than a second ago.
        try waitUntil(timeout: 10) { (try? setup.server.names())?.contains { $0.hasPrefix(".ferry-upload-") } == false }
        #expect(try setup.server.names() == ["doc.bin"])

        let notices = Lines()
        let second = try setup.server.login()
        second.notices = notices.append
        let result = try second.upload(setup.sourcePath, to: "doc.bin")
        #expect(result.resumedBytes == 0)
        #expect(result.bytes == UInt64(Self.size))
        #expect(notices.all.isEmpty, "nothing to resume: \(notices.all)")
        #expect(try Data(contentsOf: setup.server.url("doc.bin")) == setup.source)
        #expect(try setup.server.names() == ["doc.bin"])
    }

    /// A partial counts against the quota at its full size. The upload of a.bin is one short chunk,
    /// so the cut comes after its last body byte, before `commit`: the chunk is verified and kept (a
    /// partial without one verified chunk is dropped at once and would hold no room).
    @Test func aPartialHoldsItsRoomInTheQuotaUntilItIsResumed() throws {
        let server = try TestServer()
        let relay = try CuttingRelay(to: server.port)
        defer { relay.stop() }
        let local = try LocalDirectory()
        let a = try randomBytes(900_000)
        try a.write(to: local.file("a.bin"))
        try randomBytes(300_000).write(to: local.file("b.bin"))

        let first = try ClientSession.connect(host: "127.0.0.1", port: relay.port, timeout: .seconds(30), security: server.security)
        try first.login(user: "limited", password: TestServer.password)
        let chunkOnWire = try Self.frameLength(.chunk(ChunkHeader(index: 0, size: a.count, sha256: Digest.hash(.sha256, [UInt8](a)).hexString))) + UInt64(a.count)
        let upload = try Self.frameLength(.upload(UploadRequest(path: "a.bin", size: UInt64(a.count))))
        relay.cut(connection: 1, .clientToServer, after: relay.passed(1).clientToServer + upload + chunkOnWire)
        _ = try #require(throws: ClientError.self) { try first.upload(local.file("a.bin").path, to: "a.bin") }
        try waitUntil { server.server.connectionCount == 0 }
        #expect(try server.names().filter { $0.hasPrefix(".ferry-upload-resume-") }.count == 2)
        #expect(Self.claimedOnServer(server.share) == 1)

        let session = try server.login("limited")
        let refused = try #require(throws: ClientError.self) { try session.upload(local.file("b.bin").path, to: "b.bin") }
        #expect(refused.code == .tooLarge, "\(refused)")

        let result = try session.upload(local.file("a.bin").path, to: "a.bin")
        #expect(result.resumedBytes == UInt64(a.count))
        #expect(result.bytes == 0)
        #expect(try Data(contentsOf: server.url("a.bin")) == a)
        #expect(try server.names() == ["a.bin"])
    }

    /// The real binaries: `ferry put` through a relay that stops passing its bytes after two chunks
    /// and a little (TLS, so not to the byte); once ferryd has recorded two verified chunks it is killed
    /// with SIGKILL. Restarted on the same config, the same `ferry put` resumes.
    @Test func aFerrydKilledMidPutKeepsTheVerifiedChunksAndTheSamePutResumesAfterARestart() throws {
        let first = try FerrydProcess()
        let key = try #require(first.fingerprint)
        let local = try LocalDirectory()
        let source = try randomBytes(Self.size)
        try source.write(to: local.file("doc.bin"))
        try Data("old".utf8).write(to: first.share.appendingPathComponent("doc.bin"))
        let relay = try CuttingRelay(to: first.port)
        defer { relay.stop() }
        relay.hold(connection: 1, .clientToServer, after: 9 << 20)

        let arguments = ["--user", "carol", "--fingerprint", key.text, "put", local.file("doc.bin").path, "doc.bin"]
        let put = Process()
        put.executableURL = CommandLineTests.products.appendingPathComponent("ferry")
        put.arguments = ["--port", "\(relay.port)"] + arguments
        put.environment = ["FERRY_PASSWORD": "pw"]
        put.standardInput = FileHandle.nullDevice
        put.standardOutput = FileHandle.nullDevice
        let putErrors = Pipe()
        put.standardError = putErrors
        try put.run()
        defer { if put.isRunning { put.terminate() }; put.waitUntilExit() }

        try waitUntil(timeout: 30) { Self.claimedOnServer(first.share) >= 2 }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        try waitUntil(timeout: 10) { !put.isRunning }
        let said = String(decoding: putErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(put.terminationStatus == 1, "stderr: \(said)")
        #expect(try String(contentsOf: first.share.appendingPathComponent("doc.bin"), encoding: .utf8) == "old")
        #expect(Self.hidden(in: first.share).count == 2, "the partial and its record")

        let second = try FerrydProcess(in: first.local)
        let again = try CommandLineTests.run("ferry", ["--port", "\(second.port)"] + arguments, environment: ["FERRY_PASSWORD": "pw"])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stderr.contains("resuming doc.bin: 8"), "stderr: \(again.stderr)")
        #expect(try Data(contentsOf: first.share.appendingPathComponent("doc.bin")) == source)
        #expect(Self.hidden(in: first.share).isEmpty)
    }

    // MARK: older clients, changing files, large files

    @Test func aProtocolOneClientStillPutsAndGetsWithoutChunks() throws {
        let server = try TestServer()
        let data = [UInt8](try randomBytes(Self.chunk + 3))
        let md5 = Digest.hash(.md5, data).hexString
        let raw = RawClient(try server.login())

        try raw.send(.put(PutRequest(path: "old.bin", size: UInt64(data.count), md5: md5)))
        #expect(try raw.receive() == .ready)
        try raw.sendRaw(data)
        #expect(try raw.receive() == .stored(Stored(path: "old.bin", size: UInt64(data.count), md5: md5)))

        try raw.send(.get(PathRequest(path: "old.bin")))
        var message = try raw.receive()
        while case .preparing = message { message = try raw.receive() }
        guard case .file(let header) = message else { Issue.record("expected a file header, got \(message)"); return }
        #expect(header.name == "old.bin")
        #expect(header.size == UInt64(data.count))
        #expect(header.md5 == md5)
        #expect(try raw.receiveBody(header.size) == data)
        #expect(try raw.session.list("").entries.map(\.name) == ["old.bin"], "the stream is still in step")
        #expect(try server.names() == ["old.bin"])
    }

    /// 64 MiB that grow by 16 bytes every 2 ms while the server hashes them: every pass (two are
    /// tried) sees the file change, so the answer is `file_changed`. Should the scheduler ever leave
    /// the file alone for a whole pass, the manifest must then describe one state the file was in: a
    /// size the file had, and the digests of its bytes up to that size (appends never change earlier
    /// bytes).
    @Test func aManifestOfAFileThatKeepsChangingIsRefusedOrMatchesOneStateOfIt() throws {
        let server = try TestServer()
        let start = 64 << 20
        try Data(repeating: 0x5a, count: start).write(to: server.url("growing.bin"))
        let appender = try Appender(path: server.url("growing.bin").path, bytes: 16, every: .milliseconds(2))
        defer { appender.stop() }
        try waitUntil { appender.appended > 0 }
        let session = try server.login()
        switch Result(catching: { () throws(ClientError) in try session.manifest(of: "growing.bin") }) {
        case .success(let manifest):
            appender.stop()
            #expect(manifest.size >= UInt64(start))
            #expect((manifest.size - UInt64(start)) % 16 == 0, "a size the file had: \(manifest.size)")
            let digests = try Self.chunkDigests(of: server.url("growing.bin").path, size: manifest.size)
            #expect(manifest.chunks == digests)
            #expect(manifest.contentHash == ContentHash.of(digests).hexString)
        case .failure(let error):
            #expect(error.code == .fileChanged, "\(error)")
            #expect(error.message.contains("keeps changing"), "\(error)")
        }
        appender.stop()
        #expect(try session.list("").entries.map(\.name) == ["growing.bin"], "the session goes on")
    }

    /// 17 GiB + 123 bytes, all holes but a marker in chunk 2048 and in the last chunk: 4,353 chunks,
    /// so the manifest comes in 9 pages. The server recognises holes (their digest is that of 4 MiB of
    /// zeros, without reading them), so this takes seconds, not minutes; the time is printed.
    @Test func theManifestOfASparseFileOfMoreThan4096ChunksAddsUp() throws {
        let server = try TestServer()
        let path = server.url("sparse.bin").path
        let size: UInt64 = 17 << 30 + 123
        let marked = [2048: UInt64(2048 * Self.chunk) + 4096, 4352: size - 100]
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: size)
        for offset in marked.values {
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data("ferry sparse marker".utf8))
        }
        try handle.close()
        defer {
            // Shrinking the file ends at once the MD5 pass the server starts in the background after
            // a manifest without one, instead of letting it read 17 GiB after the test.
            try? FileHandle(forWritingTo: URL(fileURLWithPath: path)).truncate(atOffset: 0)
        }

        let session = try server.login()
        let clock = ContinuousClock()
        var manifest: RemoteManifest?
        let elapsed = try clock.measure { manifest = try session.manifest(of: "sparse.bin") }
        print("ResumeTests: manifest of a sparse 17 GiB file in \(elapsed)")
        let got = try #require(manifest)

        let count = ChunkGrid.count(for: size)
        #expect(count == 4353)
        let zeros = Digest.hash(.sha256, [UInt8](repeating: 0, count: Self.chunk))
        var expected = [[UInt8]](repeating: zeros, count: count)
        for index in marked.keys {
            expected[index] = try Self.chunkDigests(of: path, size: size, indices: [index])[0]
        }
        #expect(got.size == size)
        #expect(got.chunks.count == count)
        #expect(got.chunks.count > 4096)
        #expect(got.chunks == expected)
        #expect(got.contentHash == ContentHash.of(expected).hexString)
        #expect(got.md5 == nil, "over 64 MiB the MD5 is left out unless asked for")
    }

    // MARK: helpers

    /// A server holding `doc.bin` (random, ``size`` bytes), a client directory holding an older
    /// `doc.bin` ("old"), and a relay in front of the server.
    final class GetSetup {
        let server: TestServer
        let relay: CuttingRelay
        let local: LocalDirectory
        let source: Data
        let manifest: RemoteManifest

        init(tls: Bool = false) throws {
            local = try LocalDirectory()
            server = try TestServer(tls: tls)
            source = try randomBytes(ResumeTests.size)
            try source.write(to: server.url("doc.bin"))
            try Data("old".utf8).write(to: local.file("doc.bin"))
            relay = try CuttingRelay(to: server.port)
            // Hashed now, so that no `preparing` frame comes before the manifest later, whose length
            // on the wire is then known exactly.
            manifest = try server.login().manifest(of: "doc.bin")
        }

        deinit { relay.stop() }

        var destination: LocalDestination { LocalDestination(directory: local.path, name: "doc.bin") }

        func relayedSession() throws -> ClientSession {
            try ResumeTests.relayedSession(relay, server)
        }

        /// Where the body of chunk `index` begins in the server's stream, counted from the end of the
        /// login: the manifest page, then each chunk's frame and body.
        func bodyStart(of index: Int) throws -> UInt64 {
            let page = ManifestPage(name: "doc.bin", size: manifest.size, mtime: manifest.mtime, chunkCount: manifest.chunks.count,
                                    contentHash: manifest.contentHash, md5: manifest.md5, first: 0,
                                    chunks: manifest.chunks.map(\.hexString), more: false)
            var offset = try ResumeTests.frameLength(.manifest(page))
            for earlier in 0..<index { offset += try ResumeTests.chunkOnWire(earlier, of: source) }
            return try offset + ResumeTests.chunkOnWire(index, of: source) - UInt64(ResumeTests.length(of: index, in: source))
        }

        /// Where chunk `index` ends in the server's stream after the login.
        func end(of index: Int) throws -> UInt64 {
            try bodyStart(of: index) + UInt64(ResumeTests.length(of: index, in: source))
        }

        /// After a cut: the older file as it was, and the hidden partial only if a chunk was verified.
        func expectOldFileAndPartial(verified: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try String(contentsOf: local.file("doc.bin"), encoding: .utf8) == "old", sourceLocation: sourceLocation)
            if verified > 0 {
                #expect(try local.names() == [".doc.bin.ferrypart", ".doc.bin.ferrypart.chunks", "doc.bin"], sourceLocation: sourceLocation)
                #expect(InterruptionTests.recordedChunks(local.file(".doc.bin.ferrypart.chunks").path) == verified,
                        sourceLocation: sourceLocation)
            } else {
                #expect(try local.names() == ["doc.bin"], "a partial without a verified chunk is not kept", sourceLocation: sourceLocation)
            }
        }

        /// The same get again, through the relay without a rule: it must fetch only the chunks not
        /// verified (`verified` of them were), say so, and end with the whole file and nothing hidden.
        func resume(verified: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> TransferResult {
            let notices = Lines()
            let session = try relayedSession()
            session.notices = notices.append
            let connection = relay.accepted
            let before = relay.passed(connection).serverToClient
            let result = try session.download("doc.bin", to: destination)
            let resumed = UInt64(verified * ResumeTests.chunk)
            let moved = relay.passed(connection).serverToClient - before
            #expect(result.bytes == UInt64(ResumeTests.size) - resumed, sourceLocation: sourceLocation)
            #expect(moved >= result.bytes, sourceLocation: sourceLocation)
            if verified > 0 {
                #expect(moved < UInt64(ResumeTests.size), "moved \(moved) bytes", sourceLocation: sourceLocation)
                #expect(notices.all.contains { $0.hasPrefix("resuming doc.bin: ") }, "notices: \(notices.all)", sourceLocation: sourceLocation)
            }
            #expect(try Data(contentsOf: destination.url) == source, sourceLocation: sourceLocation)
            #expect(try local.names() == ["doc.bin"], sourceLocation: sourceLocation)
            return result
        }
    }

    /// A client directory holding `doc.bin` (random, ``size`` bytes), a server holding an older
    /// `doc.bin` ("old"), and a relay in front of the server.
    final class PutSetup {
        let server: TestServer
        let relay: CuttingRelay
        let local: LocalDirectory
        let source: Data

        init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
            local = try LocalDirectory()
            server = try TestServer(configure: configure)
            source = try randomBytes(ResumeTests.size)
            try source.write(to: local.file("doc.bin"))
            try Data("old".utf8).write(to: server.url("doc.bin"))
            relay = try CuttingRelay(to: server.port)
        }

        deinit { relay.stop() }

        var sourcePath: String { local.file("doc.bin").path }

        func relayedSession() throws -> ClientSession {
            try ResumeTests.relayedSession(relay, server)
        }

        /// Where the body of chunk `index` begins in the client's stream after the login: the
        /// `upload` frame, then each chunk's frame and body.
        func bodyStart(of index: Int) throws -> UInt64 {
            var offset = try ResumeTests.frameLength(.upload(UploadRequest(path: "doc.bin", size: UInt64(ResumeTests.size))))
            for earlier in 0..<index { offset += try ResumeTests.chunkOnWire(earlier, of: source) }
            return try offset + ResumeTests.chunkOnWire(index, of: source) - UInt64(ResumeTests.length(of: index, in: source))
        }

        func end(of index: Int) throws -> UInt64 {
            try bodyStart(of: index) + UInt64(ResumeTests.length(of: index, in: source))
        }

        /// After a cut, once the server has noticed it: the older file as it was, and the hidden partial
        /// with `verified` chunks recorded.
        func expectOldFileAndPartial(verified: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try waitUntil { server.server.connectionCount == 0 }
            #expect(try String(contentsOf: server.url("doc.bin"), encoding: .utf8) == "old", sourceLocation: sourceLocation)
            #expect(ResumeTests.hidden(in: server.share).count == 2, "the partial and its record", sourceLocation: sourceLocation)
            #expect(ResumeTests.claimedOnServer(server.share) == verified, sourceLocation: sourceLocation)
        }

        /// The same put again, through the relay without a rule: it must send only the chunks the
        /// server does not hold, say so, and end with the whole file stored and nothing hidden.
        func resume(verified: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> TransferResult {
            let notices = Lines()
            let session = try relayedSession()
            session.notices = notices.append
            let connection = relay.accepted
            let before = relay.passed(connection).clientToServer
            let result = try session.upload(sourcePath, to: "doc.bin")
            let resumed = UInt64(min(verified * ResumeTests.chunk, ResumeTests.size))
            let moved = relay.passed(connection).clientToServer - before
            #expect(result.bytes == UInt64(ResumeTests.size) - resumed, sourceLocation: sourceLocation)
            #expect(moved >= result.bytes, sourceLocation: sourceLocation)
            #expect(moved < UInt64(ResumeTests.size) - resumed + 64 * 1024, "moved \(moved) bytes", sourceLocation: sourceLocation)
            #expect(notices.all.contains { $0.hasPrefix("resuming doc.bin: ") }, "notices: \(notices.all)", sourceLocation: sourceLocation)
            #expect(try Data(contentsOf: server.url("doc.bin")) == source, sourceLocation: sourceLocation)
            #expect(try server.names() == ["doc.bin"], sourceLocation: sourceLocation)
            return result
        }
    }

    /// A logged-in session as alice through `relay`.
    static func relayedSession(_ relay: CuttingRelay, _ server: TestServer) throws -> ClientSession {
        let session = try ClientSession.connect(host: "127.0.0.1", port: relay.port, timeout: .seconds(30), security: server.security)
        try session.login(user: "alice", password: TestServer.password)
        return session
    }

    /// The bytes `message` takes on the wire, length prefix included, as ferry and ferryd encode it.
    static func frameLength(_ message: Message) throws -> UInt64 {
        UInt64(try MessageCoder().frame(message).count)
    }

    static func length(of index: Int, in data: Data) -> Int {
        ChunkGrid.length(of: index, fileSize: UInt64(data.count))
    }

    /// The bytes chunk `index` of `data` takes on the wire: its `chunk` frame and its body.
    static func chunkOnWire(_ index: Int, of data: Data) throws -> UInt64 {
        let start = index * chunk
        let bytes = [UInt8](data[start..<(start + length(of: index, in: data))])
        let header = ChunkHeader(index: index, size: bytes.count, sha256: Digest.hash(.sha256, bytes).hexString)
        return try frameLength(.chunk(header)) + UInt64(bytes.count)
    }

    /// The SHA-256 of chunks `indices` (all when nil) of the first `size` bytes of the file at `path`.
    static func chunkDigests(of path: String, size: UInt64, indices: [Int]? = nil) throws -> [[UInt8]] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        return try (indices ?? Array(0..<ChunkGrid.count(for: size))).map { index in
            try handle.seek(toOffset: ChunkGrid.offset(of: index))
            let bytes = try handle.read(upToCount: ChunkGrid.length(of: index, fileSize: size)) ?? Data()
            return Digest.hash(.sha256, [UInt8](bytes))
        }
    }

    /// The hidden upload files in a server directory.
    static func hidden(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix(".ferry-upload-") }
    }

    /// Chunks the record of the one upload partial in `directory` claims (0 when there is none).
    static func claimedOnServer(_ directory: URL) -> Int {
        guard let record = hidden(in: directory).first(where: { $0.hasSuffix(".chunks") }) else { return 0 }
        return InterruptionTests.recordedChunks(directory.appendingPathComponent(record).path)
    }
}

/// Lines a session's `notices` closure heard.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// Appends `bytes` bytes to a file every `interval` on a thread of its own, until stopped.
final class Appender: Sendable {
    private let running = Atomic(true)
    private let count = Atomic(0)
    private let done = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)

    init(path: String, bytes: Int, every interval: Duration) throws {
        let fd = open(path, O_WRONLY | O_APPEND)
        guard fd >= 0 else { throw PosixError(code: errno, function: "open") }
        let data = [UInt8](repeating: 0x41, count: bytes)
        Thread { [self] in
            while running.load(ordering: .relaxed) {
                if write(fd, data, data.count) == data.count { count.add(1, ordering: .relaxed) }
                usleep(useconds_t(interval.milliseconds) * 1000)
            }
            close(fd)
            done.signal()
        }.start()
    }

    /// How many times it has appended.
    var appended: Int { count.load(ordering: .relaxed) }

    /// Stops the thread and waits for it; safe to call more than once.
    func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        running.store(false, ordering: .relaxed)
        done.wait()
    }
}

extension LocalDestination {
    var url: URL { URL(fileURLWithPath: path) }
}

extension RawClient {
    /// Reads exactly `size` body bytes that follow a header just received.
    func receiveBody(_ size: UInt64) throws -> [UInt8] {
        var body = [UInt8](repeating: 0, count: Int(size))
        var filled = 0
        try body.withUnsafeMutableBytes { buffer in
            while filled < Int(size) {
                let count = try session.channel.readBody(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]),
                                                         remaining: size - UInt64(filled), timeout: .seconds(10))
                guard count > 0 else { throw ChannelClosed() }
                filled += count
            }
        }
        return body
    }
}
