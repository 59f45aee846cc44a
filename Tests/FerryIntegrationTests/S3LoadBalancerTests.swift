#if canImport(Glibc)
import Glibc
#endif
import FerryS3
import FerryWire
import Foundation
import Testing

/// Two ferryd over the same SeaweedFS bucket (`[storage] backend = s3`, docs/STORAGE.md), with one key
/// and the same users, behind one HAProxy in TCP mode sending PROXY v2 headers (docs/SCALING.md): the
/// cluster of LoadBalancerTests with a bucket in place of a shared directory. Every process (weed,
/// haproxy, both ferryd) runs on free loopback ports and is stopped by its PID, also when a test fails.
@Suite struct S3LoadBalancerTests {
    /// SeaweedFS and, over its bucket, the two nodes and their balancer.
    static func start() throws -> (store: SeaweedFS, cluster: LoadBalancerTests.Cluster) {
        let store = try SeaweedFS()
        return (store, try LoadBalancerTests.Cluster(storage: store.storageSection()))
    }

    /// `ferry put` of a 40 MiB `big.bin` through the balancer, held after 22 MiB: past two whole 8 MiB
    /// parts, so a multipart upload is under way. Returns the file's bytes, its directory, the put's
    /// arguments (to run it again) and the held put.
    static func holdBigPut(_ cluster: LoadBalancerTests.Cluster) throws -> (Data, LocalDirectory, [String], LoadBalancerTests.HeldPut) {
        let local = try LocalDirectory()
        let data = try randomBytes(40 << 20)
        try data.write(to: local.file("big.bin"))
        let arguments = ["put", local.file("big.bin").path, "big.bin"]
        return (data, local, arguments, try cluster.heldPut(arguments, after: 22 << 20))
    }

    @Test func aPutOnOneNodeIsAVerifiedGetOnTheOtherUnderOnePinnedKey() throws {
        let (store, cluster) = try Self.start()
        defer { withExtendedLifetime(store) {} }   // SeaweedFS stops last, whichever way the test ends
        let bucket = try store.bucketClient()
        let local = try LocalDirectory()
        let data = try randomBytes((18 << 20) + 12_345)   // five chunks, a multipart upload of two parts
        try data.write(to: local.file("report.bin"))
        #expect(cluster.nodes[0].fingerprint == cluster.nodes[1].fingerprint, "one key on both nodes")

        // First contact records the balancer's key; every command after this one is --strict.
        let put = try cluster.ferry(["put", local.file("report.bin").path, "report.bin"], strict: false)
        #expect(put.status == 0 && put.stderr.contains("SHA-256 verified"), "\(put)")
        #expect(eventually { !cluster.served("put", "report.bin").isEmpty })
        let putNode = try #require(cluster.served("put", "report.bin").first)
        let other = 1 - putNode
        // In the bucket: the object, and its digests beside it, written once by the node that stored it.
        #expect(try bucket.head("share/report.bin")?.size == UInt64(data.count))
        let digests = try bucket.head("share/.ferry-upload-digests-report.bin")
        #expect(digests != nil)
        #expect(try bucket.pendingUploads(prefix: "").isEmpty)

        // A get served by the other node: byte-equal, verified chunk by chunk, by content hash and --md5.
        let gets = try cluster.untilServed(by: other, {
            try? FileManager.default.removeItem(at: local.file("copy.bin"))
            return try cluster.ferry(["get", "--md5", "report.bin", local.file("copy.bin").path])
        }, servedBy: { cluster.served("get", "report.bin") })
        #expect(gets.allSatisfy { $0.status == 0 && $0.stderr.contains("SHA-256 and MD5 verified") }, "\(gets.map(\.stderr))")
        #expect(cluster.served("get", "report.bin").contains(other), "node\(other) served a get: \(cluster.served("get", "report.bin"))")
        #expect(try Data(contentsOf: local.file("copy.bin")) == data)
        // Served from the stored digests: the other node did not hash the object and store them again.
        #expect(try bucket.head("share/.ferry-upload-digests-report.bin") == digests)

        // ls (--strict) answered once by each node: the same listing.
        let listings = try cluster.listingsFromEachNode()
        #expect(listings.count == 2, "both nodes answered an ls")
        #expect(listings[0] == listings[1], "\(listings)")
        #expect(listings[0]?.contains("report.bin") == true && listings[0]?.contains("\(data.count)") == true, "\(listings)")
        #expect(listings[0]?.contains(".ferry-upload") == false, "digests are never listed")

        // One pinned key: one known_hosts line, the balancer's, held by --strict commands on both nodes.
        let known = try String(contentsOf: cluster.knownHosts, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(known.count == 1, "\(known)")
        #expect(known.first?.contains("127.0.0.1:\(cluster.balancer.port)") == true && known.first?.contains(cluster.nodes[0].fingerprint!.text) == true,
                "\(known)")

        // The client's real address: a raw client on 127.0.0.2, through the balancer on 127.0.0.1.
        guard try cluster.clientAddressReachesTheNode() != nil else { return }
        #expect(try bucket.getSmall("share/mine.txt") == Array("mine".utf8))
    }

    @Test func aNodeKilledMidPutLeavesNoObjectAndTheRetryFinishesOnTheOther() throws {
        let (store, cluster) = try Self.start()
        defer { withExtendedLifetime(store) {} }   // SeaweedFS stops last, whichever way the test ends
        let bucket = try store.bucketClient()
        let (data, local, arguments, held) = try Self.holdBigPut(cluster)
        let (outcome, done) = (held.outcome, held.done)
        let serving = try #require(held.serving)
        #expect(eventually(within: .seconds(15)) { (try? bucket.pendingUploads(prefix: "share/big.bin").count) == 1 },
                "a multipart upload under way")

        kill(cluster.nodes[serving].process.processIdentifier, SIGKILL)
        cluster.nodes[serving].process.waitUntilExit()
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(outcome.current.map { $0.status != 0 } == true, "the first attempt failed: \(String(describing: outcome.current))")

        // Nothing under the final name: not in the bucket, not to the surviving node.
        #expect(try bucket.head("share/big.bin") == nil, "no object under the final name")
        let stat = try cluster.ferry(["stat", "big.bin"])
        #expect(stat.status != 0, "\(stat)")
        let ls = try cluster.ferry(["ls"])
        #expect(ls.status == 0 && !ls.stdout.contains("big.bin"), "\(ls)")
        // The killed node's upload stays pending (hidden) until a node aborts it by age (upload_resume_timeout).
        #expect(try bucket.pendingUploads(prefix: "share/big.bin").count == 1)

        // The retry, through the balancer (--strict), lands on the survivor and starts over: a killed node
        // left no record of its parts (a cut connection does: the test below).
        let retry = try cluster.ferry(arguments)
        #expect(retry.status == 0 && retry.stderr.contains("SHA-256 verified"), "\(retry)")
        #expect(!retry.stderr.contains("resuming"), "a killed node's put starts over: \(retry.stderr)")
        #expect(eventually { cluster.served("put", "big.bin") == [1 - serving] }, "\(cluster.served("put", "big.bin"))")
        #expect(try bucket.head("share/big.bin")?.size == UInt64(data.count))
        let got = try cluster.ferry(["get", "big.bin", local.file("copy.bin").path])
        #expect(got.status == 0 && got.stderr.contains("SHA-256 verified"), "\(got)")
        #expect(try Data(contentsOf: local.file("copy.bin")) == data, "byte-equal")
        #expect(cluster.nodes[1 - serving].process.isRunning)
    }

    @Test func aPutCutMidWayResumesOnTheOtherNode() throws {
        let (store, cluster) = try Self.start()
        defer { withExtendedLifetime(store) {} }   // SeaweedFS stops last, whichever way the test ends
        let bucket = try store.bucketClient()
        // Held, then the connection is lost (the network, not the node): two whole 8 MiB parts have
        // gone up; the node keeps them and records them in the bucket.
        let (data, local, arguments, held) = try Self.holdBigPut(cluster)
        let serving = try #require(held.serving)
        let partsArrived = { () -> Int in
            guard let upload = try? bucket.pendingUploads(prefix: "share/big.bin").first,
                  let parts = try? bucket.parts(of: upload.key, uploadID: upload.uploadID) else { return 0 }
            return parts.count
        }
        #expect(eventually(within: .seconds(15)) { partsArrived() == 2 }, "two parts arrived")
        held.relay.stop()
        #expect(held.done.wait(timeout: .now() + 30) == .success)
        #expect(held.outcome.current.map { $0.status != 0 } == true, "the first attempt failed: \(String(describing: held.outcome.current))")
        #expect(eventually(within: .seconds(15)) { (try? bucket.getSmall("share/.ferry-upload-multipart-big.bin")) != nil },
                "the node recorded the parts that arrived")
        #expect(try bucket.head("share/big.bin") == nil, "nothing under the final name")

        // That node goes away; the same put, through the balancer, lands on the other one and sends
        // only the rest.
        cluster.nodes[serving].stop()
        let retry = try cluster.ferry(arguments)
        #expect(retry.status == 0 && retry.stderr.contains("SHA-256 verified"), "\(retry)")
        #expect(retry.stderr.contains("resuming big.bin: 16.0 MiB of 40.0 MiB already on the server"), "\(retry.stderr)")
        #expect(eventually { cluster.served("put", "big.bin").contains(1 - serving) }, "\(cluster.served("put", "big.bin"))")
        #expect(try bucket.pendingUploads(prefix: "share/").isEmpty)
        let got = try cluster.ferry(["get", "--md5", "big.bin", local.file("copy.bin").path])
        #expect(got.status == 0 && got.stderr.contains("SHA-256 and MD5 verified"), "\(got)")
        #expect(try Data(contentsOf: local.file("copy.bin")) == data, "byte-equal")
    }
}
