#if canImport(Glibc)
import Glibc
#endif
import FerryCrypto
import FerryS3
import FerryWire
import Foundation
import Testing

/// ferryd over a real SeaweedFS: `[storage] backend = s3`, driven through the real `ferry` binary and
/// raw connections, and checked behind ferryd's back with a client of the bucket.
@Suite(.serialized) struct S3BackendTests {
    static let carol = ["FERRY_USER": "carol", "FERRY_PASSWORD": "pw"]

    static func ferry(_ port: Int, _ arguments: [String], in directory: URL? = nil) throws -> CommandLineTests.Outcome {
        try CommandLineTests.run("ferry", Array(arguments.prefix(1)) + ["--port", "\(port)"] + arguments.dropFirst(),
                                 environment: carol, in: directory)
    }

    @Test func putGetListStatAreByteEqualAndVerified() throws {
        let store = try SeaweedFS()
        let daemon = try FerrydProcess(sections: store.storageSection())
        let local = try LocalDirectory()
        let small = try randomBytes(9 << 20 | 1234)   // three chunks, one PUT
        let large = try randomBytes(40 << 20)         // ten chunks, a multipart upload of five 8 MiB parts
        try small.write(to: local.file("small.bin"))
        try large.write(to: local.file("large.bin"))

        #expect(try Self.ferry(daemon.port, ["mkdir", "dir"]).status == 0)
        let putSmall = try Self.ferry(daemon.port, ["put", local.file("small.bin").path, "dir/"])
        #expect(putSmall.status == 0 && putSmall.stderr.contains("SHA-256 verified"), "\(putSmall)")
        let putLarge = try Self.ferry(daemon.port, ["put", local.file("large.bin").path])
        #expect(putLarge.status == 0 && putLarge.stderr.contains("SHA-256 verified"), "\(putLarge)")

        // Behind ferryd's back: the objects under the prefix, and no upload left pending.
        let bucket = try store.bucketClient()
        #expect(try bucket.head("share/dir/small.bin")?.size == UInt64(small.count))
        #expect(try bucket.head("share/large.bin")?.size == UInt64(large.count))
        #expect(try bucket.pendingUploads(prefix: "").isEmpty)

        let root = try Self.ferry(daemon.port, ["ls"])
        #expect(root.status == 0 && root.stdout.contains("dir/") && root.stdout.contains("large.bin"), "\(root)")
        #expect(!root.stdout.contains(".ferry-upload"), "digests never listed")
        let listed = try Self.ferry(daemon.port, ["ls", "dir"])
        #expect(listed.stdout.contains("\(small.count)") && listed.stdout.contains("small.bin"), "\(listed)")
        let stat = try Self.ferry(daemon.port, ["stat", "large.bin"])
        let sum = try CommandLineTests.run("ferry", ["sum", local.file("large.bin").path])
        let hash = try #require(sum.stdout.split(whereSeparator: \.isWhitespace).first { $0.count == 64 })
        #expect(stat.stdout.contains(String(hash)) && stat.stdout.contains(md5Hex(Array(large))), "\(stat) \(sum)")

        let downloads = try LocalDirectory()
        for name in ["dir/small.bin", "large.bin"] {
            let got = try Self.ferry(daemon.port, ["get", name, downloads.path + "/"])
            #expect(got.status == 0 && got.stderr.contains("SHA-256 verified"), "\(got)")
        }
        #expect(try Data(contentsOf: downloads.file("small.bin")) == small)
        #expect(try Data(contentsOf: downloads.file("large.bin")) == large)

        // Protocol 1 too: get and put, MD5-checked.
        let connection = try daemon.carol()
        let (header, body) = try connection.get("dir/small.bin", timeout: .seconds(30))
        #expect(header.md5 == md5Hex(Array(small)) && body == Array(small))
        let stored = try connection.put("p1.txt", Array("protocol one\n".utf8))
        guard case .stored = stored else { Issue.record("put: \(stored)"); return }
        #expect(try bucket.getSmall("share/p1.txt") == Array("protocol one\n".utf8))

        // rename is a copy and a delete; the digests go along; rm and df.
        #expect(try Self.ferry(daemon.port, ["rename", "large.bin", "dir/moved.bin"]).status == 0)
        #expect(try bucket.head("share/large.bin") == nil)
        let movedStat = try Self.ferry(daemon.port, ["stat", "dir/moved.bin"])
        #expect(movedStat.stdout.contains(String(hash)), "\(movedStat)")
        let df = try Self.ferry(daemon.port, ["df"])
        #expect(df.stdout.contains("n/a"), "\(df)")
        #expect(try Self.ferry(daemon.port, ["rm", "-r", "-f", "dir"]).status == 0)
        #expect(try bucket.list(prefix: "share/dir", delimiter: nil, continuation: nil).objects.isEmpty)
    }

    @Test func aCutUploadLeavesNoObjectAndOrphansAreAborted() throws {
        let store = try SeaweedFS()
        let bucket = try store.bucketClient()
        // An upload a crashed node left behind: aborted once older than upload_resume_timeout.
        let orphan = try bucket.createMultipartUpload("share/orphan.bin")
        let daemon = try FerrydProcess(server: "upload_resume_timeout = 1", sections: store.storageSection())

        let size = 24 << 20
        let content = Array(try randomBytes(size))
        let connection = try daemon.carol()
        try connection.send(.upload(UploadRequest(path: "cut.bin", size: UInt64(size))))
        guard case .partial(let page) = try connection.receive(), page.held.isEmpty else {
            Issue.record("no partial page")
            return
        }
        // Five chunks of six: past the first 8 MiB parts, so a multipart upload is under way.
        for index in 0..<5 {
            let chunk = Array(content[(index << 22)..<((index + 1) << 22)])
            try connection.send(.chunk(ChunkHeader(index: index, size: chunk.count, sha256: Digest.hash(.sha256, chunk).hexString)))
            try connection.sendBytes(chunk)
        }
        #expect(eventually(within: .seconds(10)) { (try? bucket.pendingUploads(prefix: "share/cut.bin").count) == 1 })
        connection.channel.close()
        #expect(eventually(within: .seconds(10)) { (try? bucket.pendingUploads(prefix: "share/").isEmpty) == true },
                "the cut upload and the orphan are aborted")
        #expect(try bucket.head("share/cut.bin") == nil, "nothing visible")
        #expect(try daemon.carol().list("").entries.isEmpty)
        _ = orphan
    }

    /// Sends chunks `indices` of `content` on an upload under way.
    static func sendChunks(_ indices: Range<Int>, of content: [UInt8], on connection: HardConnection) throws {
        for index in indices {
            let chunk = Array(content[(index << 22)..<min(content.count, (index + 1) << 22)])
            try connection.send(.chunk(ChunkHeader(index: index, size: chunk.count, sha256: Digest.hash(.sha256, chunk).hexString)))
            try connection.sendBytes(chunk)
        }
    }

    /// The chunks `upload` answers as held, with their digests, from every `partial` page.
    static func held(_ connection: HardConnection, upload path: String, size: Int) throws -> [HeldChunk] {
        try connection.send(.upload(UploadRequest(path: path, size: UInt64(size))))
        var held: [HeldChunk] = []
        while true {
            guard case .partial(let page) = try connection.receive(timeout: .seconds(30)) else {
                throw HardUnexpected("no partial page")
            }
            held += page.held
            if !page.more { return held }
        }
    }

    static func chunkDigests(_ content: [UInt8]) -> [[UInt8]] {
        stride(from: 0, to: content.count, by: 1 << 22).map { Digest.hash(.sha256, Array(content[$0..<min(content.count, $0 + (1 << 22))])) }
    }

    @Test func aCutUploadResumesAfterItsWholePartsOnAnyNode() throws {
        let store = try SeaweedFS()
        let bucket = try store.bucketClient()
        let first = try FerrydProcess(sections: store.storageSection())
        let other = try FerrydProcess(sections: store.storageSection())
        let size = (40 << 20) + 4321                   // 11 chunks: five whole 8 MiB parts and a short one
        let content = Array(try randomBytes(size))
        let digests = Self.chunkDigests(content)

        // Seven chunks to the first node, then the connection is lost: three whole parts (six chunks)
        // arrived; the seventh, in a part never sent, is not held.
        let cut = try first.carol()
        #expect(try Self.held(cut, upload: "resumed.bin", size: size).isEmpty)
        try Self.sendChunks(0..<7, of: content, on: cut)
        // While it runs, the same upload on the same node is told to wait (ferry put waits and retries).
        let second = try first.carol()
        try second.send(.upload(UploadRequest(path: "resumed.bin", size: UInt64(size))))
        #expect(try second.receiveError(timeout: .seconds(10)).code == .busy)
        cut.channel.close()
        #expect(eventually(within: .seconds(15)) { (try? bucket.getSmall("share/.ferry-upload-multipart-resumed.bin")) != nil },
                "the cut upload leaves its record beside the file")
        #expect(try bucket.head("share/resumed.bin") == nil, "nothing visible")
        #expect(try bucket.pendingUploads(prefix: "share/resumed.bin").count == 1, "its multipart upload is kept")
        #expect(!(try Self.ferry(other.port, ["ls"]).stdout.contains("resumed")), "the record is never listed")

        // The same upload on the other node: the six chunks of those parts held, with their digests.
        let resume = try other.carol()
        let held = try Self.held(resume, upload: "resumed.bin", size: size)
        #expect(held.map(\.index) == Array(0..<6), "\(held.map(\.index))")
        #expect(held.map(\.sha256) == digests.prefix(6).map(\.hexString))
        #expect(try bucket.getSmall("share/.ferry-upload-multipart-resumed.bin") == nil, "taken by the upload that resumes it")
        try Self.sendChunks(6..<11, of: content, on: resume)
        try resume.send(.commit(CommitRequest(contentHash: ContentHash.of(digests).hexString, md5: md5Hex(content))))
        let answer = try resume.receive(timeout: .seconds(60))
        guard case .stored(let stored) = answer else {
            Issue.record("commit: \(answer)")
            return
        }
        // The MD5 of the whole file, checked across the two connections and nodes without reading back.
        #expect(stored.md5 == md5Hex(content) && stored.size == UInt64(size))
        #expect(try bucket.getSmall("share/resumed.bin") == content, "byte-equal")
        #expect(try bucket.pendingUploads(prefix: "share/").isEmpty)
        let copy = try LocalDirectory()
        let got = try Self.ferry(first.port, ["get", "--md5", "resumed.bin", copy.path + "/"])
        #expect(got.status == 0 && got.stderr.contains("SHA-256 and MD5 verified"), "\(got)")
        #expect(try Array(Data(contentsOf: copy.file("resumed.bin"))) == content)
    }

    @Test func aResumedUploadOfAnotherFileOfTheSameSizeStartsOverAndStoresThatFile() throws {
        let store = try SeaweedFS()
        let bucket = try store.bucketClient()
        let daemon = try FerrydProcess(sections: store.storageSection())
        let size = 24 << 20                              // six chunks, three parts
        let old = Array(try randomBytes(size))
        let cut = try daemon.carol()
        _ = try Self.held(cut, upload: "changed.bin", size: size)
        try Self.sendChunks(0..<5, of: old, on: cut)
        cut.channel.close()
        #expect(eventually(within: .seconds(15)) { (try? bucket.getSmall("share/.ferry-upload-multipart-changed.bin")) != nil })

        // The client's file changed in its first chunk: it sends that one (its digest differs from the
        // held one) and those not held. Parts cannot change in the middle: the server starts anew and
        // asks for the rest.
        var new = old
        new[100] ^= 0xff
        let digests = Self.chunkDigests(new)
        let resume = try daemon.carol()
        let held = try Self.held(resume, upload: "changed.bin", size: size)
        #expect(held.map(\.index) == [0, 1, 2, 3], "two whole parts held: \(held.map(\.index))")
        try Self.sendChunks(0..<1, of: new, on: resume)
        try Self.sendChunks(4..<6, of: new, on: resume)
        let commit = CommitRequest(contentHash: ContentHash.of(digests).hexString, md5: md5Hex(new))
        try resume.send(.commit(commit))
        guard case .incomplete(let incomplete) = try resume.receive(timeout: .seconds(30)) else {
            Issue.record("no incomplete")
            return
        }
        #expect(incomplete.chunks == [ChunkRange(first: 1, count: 5)], "\(incomplete)")
        try Self.sendChunks(1..<6, of: new, on: resume)
        try resume.send(.commit(commit))
        let answer = try resume.receive(timeout: .seconds(60))
        guard case .stored = answer else {
            Issue.record("commit: \(answer)")
            return
        }
        #expect(try bucket.getSmall("share/changed.bin") == new, "the new file, not a mix")
        #expect(try bucket.pendingUploads(prefix: "share/").isEmpty, "the old upload was aborted")
        #expect(try bucket.getSmall("share/.ferry-upload-multipart-changed.bin") == nil)
    }

    /// Sends every chunk of `content` and a commit with its content hash and MD5; the answer.
    static func sendAllAndCommit(_ content: [UInt8], on connection: HardConnection) throws -> Message {
        try sendChunks(0..<ChunkGrid.count(for: UInt64(content.count)), of: content, on: connection)
        try connection.send(.commit(CommitRequest(contentHash: ContentHash.of(chunkDigests(content)).hexString, md5: md5Hex(content))))
        return try connection.receive(timeout: .seconds(60))
    }

    @Test func aFileOver64MiBKeepsItsMD5WhenTheUploadAnnouncesItOrSomeoneAsks() throws {
        let store = try SeaweedFS()
        let daemon = try FerrydProcess(sections: store.storageSection())
        let size = (72 << 20) + 5                        // 19 chunks, over the 64 MiB of inline MD5s

        // Announced (`"md5": true`, as `ferry put --md5` sends it): checked as the chunks land.
        let announced = Array(try randomBytes(size))
        let first = try daemon.carol()
        try first.send(.upload(UploadRequest(path: "announced.bin", size: UInt64(size), md5: true)))
        guard case .partial = try first.receive() else { Issue.record("no partial"); return }
        let stored = try Self.sendAllAndCommit(announced, on: first)
        guard case .stored(let reply) = stored else { Issue.record("announced: \(stored)"); return }
        #expect(reply.md5 == md5Hex(announced))

        // Not announced, and the commit carries an MD5 all the same: the bytes are gone, so the server
        // starts anew, keeping the MD5, and asks for every chunk again.
        let unannounced = Array(try randomBytes(size))
        let second = try daemon.carol()
        #expect(try Self.held(second, upload: "unannounced.bin", size: size).isEmpty)
        let again = try Self.sendAllAndCommit(unannounced, on: second)
        guard case .incomplete(let incomplete) = again else { Issue.record("unannounced: \(again)"); return }
        #expect(incomplete.chunks == [ChunkRange(first: 0, count: 19)] && incomplete.mismatched.isEmpty, "\(incomplete)")
        let secondTry = try Self.sendAllAndCommit(unannounced, on: second)
        guard case .stored(let secondReply) = secondTry else { Issue.record("unannounced, again: \(secondTry)"); return }
        #expect(secondReply.md5 == md5Hex(unannounced))
        let bucket = try store.bucketClient()
        let readBack = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { readBack.deallocate() }
        #expect(try bucket.get("share/unannounced.bin", range: 0..<UInt64(size), into: readBack) == size)
        #expect(Array(readBack) == unannounced, "byte-equal")

        // A plain `ferry put`: no MD5 kept in the stored digests; the first to ask for it (`ferry stat`
        // does) has it worked out from the object once, and stored for everyone after.
        let local = try LocalDirectory()
        let plain = try randomBytes(size)
        try plain.write(to: local.file("plain.bin"))
        let put = try Self.ferry(daemon.port, ["put", local.file("plain.bin").path])
        #expect(put.status == 0 && put.stderr.contains("SHA-256 verified"), "\(put)")
        let plainMD5 = md5Hex(Array(plain))
        let digests = { () -> String in
            ((try? bucket.getSmall("share/.ferry-upload-digests-plain.bin")) ?? nil).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        #expect(digests().contains("\"chunks\"") && !digests().contains("\"md5\""), "\(digests())")
        let stat = try Self.ferry(daemon.port, ["stat", "plain.bin"])
        #expect(stat.status == 0 && stat.stdout.contains("md5: \(plainMD5)"), "\(stat)")
        #expect(digests().contains(plainMD5), "stored once worked out")
        let got = try Self.ferry(daemon.port, ["get", "--md5", "plain.bin", local.file("copy.bin").path])
        #expect(got.status == 0 && got.stderr.contains("SHA-256 and MD5 verified"), "\(got)")
        #expect(try Data(contentsOf: local.file("copy.bin")) == plain)
    }

    @Test func badCredentialsOrAMissingBucketGiveOneLineAtStart() throws {
        let store = try SeaweedFS()
        let local = try LocalDirectory()
        let config = try DaemonTests.configWithCarol(in: local)
        let base = try String(contentsOf: config, encoding: .utf8)
        let cases: [(String, String)] = [
            (store.storageSection(secret: "wrong"), "check secret_access_key"),
            (store.storageSection().replacingOccurrences(of: SeaweedFS.accessKey, with: "nobody"), "access denied (check access_key_id)"),
            (store.storageSection(bucket: "missing"), "no such bucket"),
        ]
        for (section, reason) in cases {
            try (base + section).write(to: config, atomically: true, encoding: .utf8)
            let outcome = try CommandLineTests.run("ferryd", ["--config", config.path])
            let lines = outcome.stderr.split(separator: "\n").filter { !$0.contains("made a new server key") }
            #expect(outcome.status != 0)
            #expect(lines.count == 1 && lines[0].hasPrefix("ferryd: s3 bucket \"") && lines[0].contains("at \(store.endpoint): ")
                    && lines[0].contains(reason), "\(outcome.stderr)")
        }
    }

    @Test func memoryStaysBoundedDuringALargePut() throws {
        let store = try SeaweedFS()
        let daemon = try FerrydProcess(sections: store.storageSection())
        let local = try LocalDirectory()
        let size: UInt64 = 1 << 30
        // Sparse: no time spent writing it.
        _ = FileManager.default.createFile(atPath: local.file("big.bin").path, contents: nil)
        let handle = try FileHandle(forWritingTo: local.file("big.bin"))
        try handle.truncate(atOffset: size)
        try handle.close()

        let peak = Locked(0)
        let done = Locked(false)
        let pid = daemon.process.processIdentifier
        let sampler = onThread {
            while !done.withLock({ $0 }) {
                if let rss = Self.residentBytes(of: pid) { peak.withLock { $0 = max($0, rss) } }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        let put = try Self.ferry(daemon.port, ["put", local.file("big.bin").path])
        done.withLock { $0 = true }
        sampler.wait()
        #expect(put.status == 0 && put.stderr.contains("SHA-256 verified"), "\(put)")
        #expect(try store.bucketClient().head("share/big.bin")?.size == size)
        let megabytes = peak.withLock { $0 } >> 20
        #expect(megabytes > 0 && megabytes < 200, "ferryd's resident memory peaked at \(megabytes) MiB during a 1 GiB put")
    }

    /// VmRSS from /proc/PID/status.
    static func residentBytes(of pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(whereSeparator: \.isWhitespace)[1]) else { return nil }
        return kilobytes << 10
    }
}
