#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryTLS
import FerryWire
import Foundation
import Testing

/// Two ferryd binaries over one share and one key, with the same users, behind one HAProxy in TCP
/// mode that sends each a PROXY v2 header (docs/SCALING.md), all on loopback: what a client sees is one
/// server, whichever node answers; the nodes see the client, not the balancer.
@Suite struct LoadBalancerTests {
    /// The nodes, the balancer, and the client's known_hosts. Everything stops at deinit (by PID),
    /// also when a test fails.
    final class Cluster {
        let shared: LocalDirectory
        let nodes: [FerrydProcess]
        let balancer: HAProxyProcess
        let client: LocalDirectory

        /// - Parameter storage: text appended to every node's config.ini, such as the same `[storage]`
        ///   section (S3LoadBalancerTests); without it the nodes share a local directory.
        init(storage: String = "") throws {
            shared = try LocalDirectory()
            try FileManager.default.createDirectory(at: shared.file("share"), withIntermediateDirectories: true)
            let certificate = shared.file("ferryd.crt").path, privateKey = shared.file("ferryd.key").path
            _ = try ServerKeyFiles.createIfMissing(certificate: certificate, privateKey: privateKey)
            // One config.ini's users on every node: carol is added once, and the file copied.
            let first = try LocalDirectory()
            let users = try String(contentsOf: DaemonTests.configWithCarol(in: first), encoding: .utf8)
            var nodes: [FerrydProcess] = []
            for index in 0..<2 {
                let directory = index == 0 ? first : try LocalDirectory()
                try users.write(to: directory.file("config.ini"), atomically: true, encoding: .utf8)
                nodes.append(try FerrydProcess(
                    server: "root = \(shared.file("share").path)\ntrusted_proxies = 127.0.0.1\ntransfer_log = transfers.log\n",
                    sections: "[tls]\ncertificate = \(certificate)\nprivate_key = \(privateKey)\n" + storage, in: directory))
            }
            self.nodes = nodes
            balancer = try HAProxyProcess(backends: nodes.map(\.port))
            client = try LocalDirectory()
        }

        deinit {
            balancer.stop()
            nodes.forEach { $0.stop() }
        }

        var share: URL { shared.file("share") }
        var knownHosts: URL { client.file("known_hosts") }

        /// `ferry ARGUMENTS` as carol through the balancer (or `port`), with the one known_hosts.
        func ferry(_ arguments: [String], port: Int? = nil, strict: Bool = true) throws -> CommandLineTests.Outcome {
            try CommandLineTests.run("ferry", ["--port", "\(port ?? balancer.port)", "--user", "carol", "--known-hosts", knownHosts.path]
                                     + (strict ? ["--strict"] : []) + arguments, environment: ["FERRY_PASSWORD": "pw"])
        }

        /// The records of node `index`'s transfer log.
        func transfers(_ index: Int) -> [[String: Any]] {
            let text = (try? String(contentsOf: nodes[index].local.file("transfers.log"), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// The nodes whose transfer log has an `ok` record of `command` on `path`, each as often as it has.
        func served(_ command: String, _ path: String) -> [Int] {
            nodes.indices.flatMap { index in
                transfers(index).filter { $0["command"] as? String == command && $0["path"] as? String == path && $0["result"] as? String == "ok" }
                    .map { _ in index }
            }
        }

        /// Runs `attempt` until node `wanted` has served it (round robin alternates, but health checks and
        /// other connections may take a turn), at most `tries` times; the outcomes of every run.
        func untilServed(by wanted: Int, tries: Int = 6, _ attempt: () throws -> CommandLineTests.Outcome,
                         servedBy: () -> [Int]) rethrows -> [CommandLineTests.Outcome] {
            var outcomes: [CommandLineTests.Outcome] = []
            for _ in 0..<tries {
                let before = servedBy().filter { $0 == wanted }.count
                outcomes.append(try attempt())
                if eventually(within: .seconds(2), { servedBy().filter { $0 == wanted }.count > before }) { break }
            }
            return outcomes
        }

        /// Runs `ferry ls` through the balancer until each node has answered one (told apart by their
        /// logs' `ls /: ` lines), at most `tries` times: what each node listed.
        func listingsFromEachNode(tries: Int = 6) throws -> [Int: String] {
            var listings: [Int: String] = [:]
            for _ in 0..<tries where listings.count < nodes.count {
                let before = nodes.map { $0.logLines(containing: "ls /: ") }
                let ls = try ferry(["ls"])
                #expect(ls.status == 0, "stderr: \(ls.stderr)")
                guard eventually(within: .seconds(2), { nodes.map { $0.logLines(containing: "ls /: ") } != before }) else { continue }
                let node = nodes.indices.first { nodes[$0].logLines(containing: "ls /: ") > before[$0] }!
                listings[node] = ls.stdout
            }
            return listings
        }

        /// The node with more `login carol` lines in its log than `logins` (counts taken before), if any.
        func nodeLoggedIn(since logins: [Int]) -> Int? {
            nodes.indices.first { nodes[$0].logLines(containing: "login carol") > logins[$0] }
        }

        /// `ferry put LOCAL NAME` by carol, on a thread of its own, through a relay in front of the
        /// balancer that stops passing the upload's bytes after `after` of them. Returns once the relay
        /// holds them and the serving node is known (nil: no node logged in in time).
        func heldPut(_ arguments: [String], after bytes: UInt64) throws -> HeldPut {
            // Record the key first, so that the put below is one connection.
            let first = try ferry(["ls"], strict: false)
            #expect(first.status == 0, "stderr: \(first.stderr)")
            let relay = try CuttingRelay(to: balancer.port)
            relay.hold(connection: 1, .clientToServer, after: bytes)
            let logins = nodes.map { $0.logLines(containing: "login carol") }
            let outcome = Locked<CommandLineTests.Outcome?>(nil)
            // (Not --strict: to the client the relay is another server, met for the first time.)
            let command = ["--port", "\(relay.port)", "--user", "carol", "--known-hosts", knownHosts.path] + arguments
            let done = onThread {
                let result = try? CommandLineTests.run("ferry", command, environment: ["FERRY_PASSWORD": "pw"])
                outcome.withLock { $0 = result }
            }
            #expect(eventually(within: .seconds(30)) { relay.passed(1).clientToServer >= bytes }, "\(String(describing: outcome.current))")
            #expect(eventually { nodeLoggedIn(since: logins) != nil })
            return HeldPut(relay: relay, outcome: outcome, done: done, serving: nodeLoggedIn(since: logins))
        }
        /// A raw client on 127.0.0.2 puts and gets `mine.txt` through the balancer (on 127.0.0.1, the one
        /// trusted proxy); the serving node's transfer log and log lines must name the client, come
        /// through the proxy. Returns that node, or nil (recorded) when the client could not log in.
        func clientAddressReachesTheNode() throws -> Int? {
            let connection = try HardConnection(port: balancer.port, source: "127.0.0.2", tls: true)
            let clientPort = try #require(connection.socket.localAddress?.port)
            let login = try connection.login(user: "carol", password: "pw")
            guard case .authOK = login else {
                Issue.record("carol could not log in through the balancer: \(login)")
                return nil
            }
            #expect(errorCode(try connection.put("mine.txt", Array("mine".utf8))) == nil)
            #expect(try connection.get("mine.txt").body == Array("mine".utf8))
            connection.stream.close()

            #expect(eventually { !served("put", "mine.txt").isEmpty })
            let node = try #require(served("put", "mine.txt").first)
            #expect(eventually { transfers(node).filter { $0["path"] as? String == "mine.txt" }.count == 2 })
            let records = transfers(node).filter { $0["path"] as? String == "mine.txt" }
            #expect(records.count == 2 && records.allSatisfy { $0["address"] as? String == "127.0.0.2" }, "\(records)")
            func lines() -> [Substring] { nodes[node].log.split(separator: "\n").filter { $0.contains("peer=127.0.0.2:\(clientPort)") } }
            #expect(eventually { lines().contains { $0.hasSuffix("login carol") } && lines().contains { $0.contains("get mine.txt") } },
                    "\(nodes[node].log.suffix(1000))")
            #expect(lines().allSatisfy { $0.contains("proxy=127.0.0.1:") }, "\(lines())")
            return node
        }
    }

    /// A put held part way by ``Cluster/heldPut(_:after:)``.
    struct HeldPut {
        let relay: CuttingRelay
        let outcome: Locked<CommandLineTests.Outcome?>
        let done: DispatchSemaphore
        let serving: Int?
    }

    @Test func aFilePutThroughOneNodeIsServedByTheOtherUnderTheSameKey() throws {
        let cluster = try Cluster()
        let local = try LocalDirectory()
        let data = try randomBytes((5 << 20) + 12_345)
        try data.write(to: local.file("report.bin"))
        #expect(cluster.nodes[0].fingerprint == cluster.nodes[1].fingerprint, "one key on both nodes")

        // First contact records the key (no terminal: accepted after the login), then --strict holds it.
        let put = try cluster.ferry(["put", local.file("report.bin").path, "report.bin"], strict: false)
        #expect(put.status == 0, "stderr: \(put.stderr)")
        // (A transfer's record is written just after its answer: wait for it.)
        #expect(eventually { !cluster.served("put", "report.bin").isEmpty })
        let putNode = try #require(cluster.served("put", "report.bin").first)
        let other = 1 - putNode

        let gets = try cluster.untilServed(by: other, {
            try? FileManager.default.removeItem(at: local.file("copy.bin"))
            return try cluster.ferry(["get", "--md5", "report.bin", local.file("copy.bin").path])
        }, servedBy: { cluster.served("get", "report.bin") })
        #expect(gets.allSatisfy { $0.status == 0 }, "\(gets.map(\.stderr))")
        #expect(cluster.served("get", "report.bin").contains(other), "node\(other) served a get: \(cluster.served("get", "report.bin"))")
        #expect(try Data(contentsOf: local.file("copy.bin")) == data, "byte-equal, and verified (chunk digests and --md5)")

        // ls: each node answers once, and both say the same.
        let listings = try cluster.listingsFromEachNode()
        #expect(listings.count == 2, "both nodes answered an ls")
        #expect(listings[0] == listings[1])
        #expect(listings[0]?.contains("report.bin") == true)

        // One known_hosts line, the balancer's, with the key both nodes hold.
        let known = try String(contentsOf: cluster.knownHosts, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(known.count == 1, "\(known)")
        #expect(known.first?.contains("127.0.0.1:\(cluster.balancer.port)") == true && known.first?.contains(cluster.nodes[0].fingerprint!.text) == true,
                "\(known)")
        for node in cluster.nodes { #expect(eventually { node.logLines(containing: "login carol") >= 2 }, "\(node.log.suffix(1000))") }
    }

    @Test func theNodesSeeTheClientsAddressAndOnlyTheBalancersHeaders() throws {
        let cluster = try Cluster()
        guard try cluster.clientAddressReachesTheNode() != nil else { return }
        #expect(cluster.nodes.allSatisfy { !$0.log.contains("peer=127.0.0.1:") }, "no session is the balancer's")

        // Straight to a node: a header from 127.0.0.2 is not believed, and 127.0.0.1 must send one.
        let node0 = cluster.nodes[0]
        let forged = try ProxyProtocolTests.refusal(port: node0.port, source: "127.0.0.2", sending: ProxyProtocolTests.header(client: "192.0.2.7"))
        #expect(forged.message.contains("127.0.0.2 is not one of them"), "\(forged)")
        let bare = try cluster.ferry(["ls"], port: node0.port, strict: false)
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("only behind a PROXY protocol v2 header"), "\(bare.stderr)")
        #expect(eventually { node0.logLines(containing: "sent a PROXY protocol header, but 127.0.0.2 is not in trusted_proxies") == 1 })
        #expect(eventually { node0.logLines(containing: "a trusted proxy (trusted_proxies): it sent no PROXY header") == 1 })
    }

    @Test func aNodeKilledMidPutLeavesTheRetryToTheOther() throws {
        let cluster = try Cluster()
        let local = try LocalDirectory()
        let data = try randomBytes(24 << 20)
        try data.write(to: local.file("big.bin"))
        // The put is held after 10 MiB: two chunks verified.
        let arguments = ["put", local.file("big.bin").path, "big.bin"]
        let held = try cluster.heldPut(arguments, after: 10 << 20)
        let (outcome, done) = (held.outcome, held.done)
        let serving = try #require(held.serving)
        #expect(eventually(within: .seconds(10)) { Self.verifiedChunks(under: cluster.share) >= 2 }, "\(temporaryFiles(under: cluster.share))")

        kill(cluster.nodes[serving].process.processIdentifier, SIGKILL)
        cluster.nodes[serving].process.waitUntilExit()
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(outcome.current.map { $0.status != 0 } == true, "the first attempt failed: \(String(describing: outcome.current))")
        #expect(!FileManager.default.fileExists(atPath: cluster.share.appendingPathComponent("big.bin").path), "nothing under the final name")
        #expect(!temporaryFiles(under: cluster.share).isEmpty, "the verified chunks wait, hidden")

        let retry = try cluster.ferry(arguments)
        #expect(retry.stderr.contains("resuming big.bin: 8.00 MiB of 24.0 MiB already on the server"),
                "the other node resumed from the verified chunks on the share: \(retry.stderr)")
        #expect(retry.status == 0, "stderr: \(retry.stderr)")
        #expect(eventually { cluster.served("put", "big.bin") == [1 - serving] }, "\(cluster.served("put", "big.bin"))")
        #expect(try Data(contentsOf: cluster.share.appendingPathComponent("big.bin")) == data)
        #expect(temporaryFiles(under: cluster.share).isEmpty, "\(temporaryFiles(under: cluster.share))")
        #expect(cluster.nodes[1 - serving].process.isRunning)
    }

    /// How many chunks the hidden partials under `share` record as verified: the non-zero 32-byte
    /// digest slots after the 64-byte header of each `.chunks` record (see ChunkRecord).
    static func verifiedChunks(under share: URL) -> Int {
        temporaryFiles(under: share).filter { $0.hasSuffix(".chunks") }.reduce(0) { total, name in
            let bytes = Array((try? Data(contentsOf: share.appendingPathComponent(name))) ?? Data())
            let slots = stride(from: 64, to: bytes.count - 31, by: 32).filter { bytes[$0..<$0 + 32].contains { $0 != 0 } }
            return total + slots.count
        }
    }
}
