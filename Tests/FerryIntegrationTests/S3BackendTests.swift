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
