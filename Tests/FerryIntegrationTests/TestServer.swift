import FerryClient
import FerryCrypto
import FerryPosix
@testable import FerryServer
import Foundation
import Logging

/// A real ferryd on 127.0.0.1, port 0, serving a fresh temporary directory, with three users:
/// "alice" (read-write), "reader" (read-only) and "limited" (read-write, a quota of 1 MiB on the same
/// share), all with password "secret".
/// Next to the share sits a config.ini with a secret in it, which no client may ever read.
final class TestServer {
    static let password = "secret"
    static let limitedQuota: UInt64 = 1 << 20
    let directory: URL
    let share: URL
    let server: Server

    /// - Parameters:
    ///   - sharePath: serve this existing directory instead of a fresh `share` beside config.ini.
    ///   - tls: speak protocol 2 (TLS, a key made in the test's directory) instead of clear text.
    ///   - rateLimits: each named user's `rate_limit`, bytes per second.
    init(sharePath: String? = nil, tls: Bool = false, rateLimits: [String: UInt64] = [:],
         configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        Posix.ignoreSIGPIPE()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-test-\(UUID().uuidString)")
        share = sharePath.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("share")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
        try "secret = do-not-leak\n".write(to: directory.appendingPathComponent("config.ini"), atomically: true, encoding: .utf8)
        var configuration = ServerConfiguration(root: share.path)
        configuration.port = 0
        configuration.failedLoginDelay = .milliseconds(200)
        configuration.shutdownGrace = .milliseconds(500)
        if tls {
            configuration.tls = .on(certificate: directory.appendingPathComponent("ferryd.crt").path,
                                    privateKey: directory.appendingPathComponent("ferryd.key").path, createIfMissing: true)
        }
        configure(&configuration)
        let users = UserStore([
            UserRecord(name: "alice", credentials: Self.credentials, rateLimit: rateLimits["alice"]),
            UserRecord(name: "reader", credentials: Self.credentials, readOnly: true, rateLimit: rateLimits["reader"]),
            UserRecord(name: "limited", credentials: Self.credentials, quota: Self.limitedQuota, rateLimit: rateLimits["limited"]),
        ])
        var logger = Logger(label: "ferryd-test")
        logger.logLevel = .warning
        server = try Server(configuration: configuration, users: users, logger: logger)
        server.start()
    }

    /// Derived once: PBKDF2 is deliberately slow.
    static let credentials = ScramCredentials.derive(
        password: password, salt: SecureRandom.bytes(16), iterations: ScramCredentials.minimumIterations
    )

    var port: Int { server.localAddress.port }

    /// How a client connects: TLS pinned to this server's key, or clear text.
    var security: ConnectionSecurity { server.fingerprint.map { .tls(.fingerprint($0)) } ?? .clearText }

    /// The `ferry` options that connect to this server.
    var clientArguments: [String] { server.fingerprint.map { ["--fingerprint", $0.text] } ?? ["--no-tls"] }

    /// A logged-in client session.
    func login(_ user: String = "alice", password: String = TestServer.password) throws -> ClientSession {
        let session = try ClientSession.connect(host: "127.0.0.1", port: port, timeout: .seconds(30), security: security)
        try session.login(user: user, password: password)
        return session
    }

    func url(_ relative: String) -> URL { share.appendingPathComponent(relative) }

    /// Names in a share directory, hidden ones included.
    func names(in relative: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url(relative).path).sorted()
    }

    deinit {
        server.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A scratch directory for the client's side of a test, removed at deinit.
final class LocalDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-local-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var path: String { url.path }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// `count` bytes from the kernel's random source.
func randomBytes(_ count: Int) throws -> Data {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
    defer { try? handle.close() }
    var data = Data()
    data.reserveCapacity(count)
    while data.count < count {
        guard let chunk = try handle.read(upToCount: min(1 << 20, count - data.count)), !chunk.isEmpty else { break }
        data.append(chunk)
    }
    return data
}

/// This process's umask. Read, not set: /proc tells it without a moment of another one for parallel tests.
func processUmask() -> Int {
    (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("Umask:") }
        .flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8) } ?? 0o022
}
