#if canImport(Glibc)
import Glibc
#endif
import FerryCrypto
import FerryPosix
import FerryTLS
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Helpers for the Hardening* suites: a raw connection that can say anything, snapshots of the file
/// system around a share, and small thread utilities. Every wait here is bounded.

/// Something the server sent that a test did not expect.
struct HardUnexpected: Error, CustomStringConvertible {
    let what: String
    init(_ what: String) { self.what = what }
    var description: String { what }
}

/// A raw client connection that plays a misbehaving peer: raw bytes and hand-made frames out,
/// decoded messages in. It logs in itself (SCRAM by hand), so nothing stands between the test and the wire.
final class HardConnection: @unchecked Sendable {
    let socket: Socket
    /// What the frames travel over: the socket, or TLS over it.
    let stream: any ByteStream
    let channel: MessageChannel
    private(set) var hello: Hello?
    /// The TLS stream when the server speaks protocol 2.
    let tls: TLSStream?

    /// Connects (from the loopback address `source`, if given), sends `preamble` (a PROXY header,
    /// say) if given, with a TLS handshake first when `tls` (any server key is accepted: these tests
    /// are about what comes after); reads the hello unless `readHello` is false.
    init(port: Int, readHello: Bool = true, source: String? = nil, tls: Bool = false, preamble: [UInt8] = []) throws {
        let connected = try Socket.connect(host: "127.0.0.1", port: port, timeout: .seconds(5), source: source)
        if !preamble.isEmpty { try preamble.withUnsafeBytes { try connected.write($0, timeout: .seconds(5)) } }
        socket = connected
        if tls {
            let secured = try TLSStream(context: try TLSContext.client(.pinning), socket: socket)
            try secured.handshake(deadline: .now + .seconds(5))
            self.tls = secured
            stream = secured
        } else {
            self.tls = nil
            stream = socket
        }
        channel = MessageChannel(stream: stream)
        if readHello {
            let first = try channel.receive(timeout: .seconds(5))
            guard case .hello(let greeting) = first else { throw HardUnexpected("expected hello, got \(first)") }
            hello = greeting
        }
    }

    /// A connection logged in as `user`.
    static func loggedIn(_ server: TestServer, user: String = "alice") throws -> HardConnection {
        let connection = try HardConnection(port: server.port)
        let outcome = try connection.login(user: user)
        guard case .authOK = outcome else { throw HardUnexpected("login failed: \(outcome)") }
        return connection
    }

    deinit { stream.close() }

    /// The mechanism this connection logs in with.
    var mechanism: String { Hello.mechanism(overTLS: tls != nil) }

    // MARK: sending

    func sendBytes(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try stream.write($0, timeout: .seconds(10)) }
    }

    /// A frame around `payload`, whatever its length (no precondition, unlike `Frame.encode`).
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        lengthPrefix(UInt32(payload.count)) + payload
    }

    static func frame(_ json: String) -> [UInt8] { frame(Array(json.utf8)) }

    static func frame(_ message: Message) throws -> [UInt8] { try MessageCoder().frame(message) }

    static func lengthPrefix(_ length: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
         UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
    }

    func sendPayload(_ payload: [UInt8]) throws { try sendBytes(Self.frame(payload)) }
    func sendJSON(_ json: String) throws { try sendBytes(Self.frame(json)) }
    func send(_ message: Message) throws { try channel.send(message, timeout: .seconds(10)) }

    // MARK: receiving

    func receive(timeout: Duration = .seconds(5)) throws -> Message {
        try channel.receive(timeout: timeout)
    }

    /// The next message, which must be an `error`; returns its reply.
    func receiveError(timeout: Duration = .seconds(5)) throws -> ErrorReply {
        let message = try receive(timeout: timeout)
        guard case .error(let reply) = message else { throw HardUnexpected("expected an error, got \(message.type): \(message)") }
        return reply
    }

    /// Reads and discards until the server closes the connection (end of stream or reset). True when
    /// that happened within `timeout`; false if the connection was still open then.
    func closedByServer(within timeout: Duration = .seconds(5)) -> Bool {
        Self.readsEndOfStream(stream, within: timeout)
    }

    /// True when `stream` reads to its end (or a reset) within `timeout`, whatever comes before.
    static func readsEndOfStream(_ stream: any ByteStream, within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let left = deadline - .now
            if left <= .zero { return false }
            do {
                if try stream.read(into: buffer, timeout: left) == 0 { return true }
            } catch is TimeoutError {
                return false
            } catch {
                return true
            }
        }
    }

    /// Logs in with SCRAM-SHA-256 (-PLUS, bound to the channel, over TLS); returns the server's last
    /// answer (auth_ok, or the error).
    func login(user: String = "alice", password: String = TestServer.password) throws -> Message {
        var scram = ScramClient(username: user, password: password, channelBindingData: try tls?.channelBinding())
        try send(.authStart(AuthStart(mechanism: mechanism, message: scram.clientFirstMessage)))
        let challenge = try receive()
        guard case .authChallenge(let first) = challenge else { return challenge }
        let final = try scram.clientFinalMessage(serverFirst: first.message)
        try send(.authFinish(AuthMessage(message: final)))
        return try receive()
    }

    /// An `ls`: all entries, whether truncated, and how many `listing` frames carried them. An `error`
    /// reply is thrown as the `ErrorReply`.
    func list(_ path: String, timeout: Duration = .seconds(10)) throws -> (entries: [Entry], truncated: Bool, frames: Int) {
        try send(.list(PathRequest(path: path)))
        var entries: [Entry] = []
        var frames = 0
        while true {
            let message = try receive(timeout: timeout)
            switch message {
            case .listing(let part):
                frames += 1
                entries += part.entries
                if !part.more { return (entries, part.truncated ?? false, frames) }
            case .error(let reply):
                throw reply
            default:
                throw HardUnexpected("expected listing, got \(message)")
            }
        }
    }

    /// A `get` whose body is read completely (bounded); an `error` reply is thrown.
    func get(_ path: String, timeout: Duration = .seconds(10)) throws -> (header: FileHeader, body: [UInt8]) {
        try send(.get(PathRequest(path: path)))
        while true {
            let message = try receive(timeout: timeout)
            switch message {
            case .preparing: continue
            case .file(let header):
                return (header, try readBody(header.size, timeout: timeout))
            case .error(let reply):
                throw reply
            default:
                throw HardUnexpected("expected file, got \(message)")
            }
        }
    }

    /// Exactly `size` body bytes (or fewer if the server closed).
    func readBody(_ size: UInt64, timeout: Duration = .seconds(10)) throws -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(Int(size))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while UInt64(body.count) < size {
            let count = try channel.readBody(into: buffer, remaining: size - UInt64(body.count), timeout: timeout)
            if count == 0 { break }
            body += UnsafeRawBufferPointer(rebasing: buffer[..<count])
        }
        return body
    }

    /// A whole `put`: request, body after `ready`, and the final answer. Returns the message that ended
    /// it: `stored`, or the `error` (before or after the body).
    func put(_ path: String, _ body: [UInt8], timeout: Duration = .seconds(10)) throws -> Message {
        try send(.put(PutRequest(path: path, size: UInt64(body.count), md5: md5Hex(body))))
        let answer = try receive(timeout: timeout)
        guard answer == .ready else { return answer }
        try sendBytes(body)
        return try receive(timeout: timeout)
    }
}

/// Lowercase hex MD5.
func md5Hex(_ bytes: [UInt8]) -> String { Digest.hash(.md5, bytes).hexString }

/// The code of an `error` message, nil for anything else.
func errorCode(_ message: Message) -> ErrorCode? {
    if case .error(let reply) = message { return reply.code }
    return nil
}

// MARK: file system

/// Everything under `url`, by relative path, without following symlinks: "dir", "link -> target",
/// "fifo", or "file <md5>". Top-level names in `excluding` are left out.
func treeSnapshot(_ url: URL, excluding: Set<String> = []) -> [String: String] {
    var result: [String: String] = [:]
    func walk(_ directory: String, prefix: String, top: Bool) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where !(top && excluding.contains(name)) {
            let full = directory + "/" + name
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            var status = stat()
            guard lstat(full, &status) == 0 else { result[relative] = "vanished"; continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                result[relative] = "dir"
                walk(full, prefix: relative, top: false)
            case S_IFLNK:
                result[relative] = "link -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? "?")
            case S_IFREG:
                let data = FileManager.default.contents(atPath: full) ?? Data()
                result[relative] = "file \(md5Hex(Array(data)))"
            default:
                result[relative] = "other"
            }
        }
    }
    walk(url.path, prefix: "", top: true)
    return result
}

/// Relative paths of Ferry temporary upload files anywhere under `url`.
func temporaryFiles(under url: URL) -> [String] {
    treeSnapshot(url).keys.filter { $0.split(separator: "/").last?.hasPrefix(".ferry-upload-") ?? false }.sorted()
}

/// Creates `count` empty files named f0, f1, ... in `directory`, quickly: as hard links to a few empty
/// files, since allocating 20,000 inodes can take seconds on a busy disk while links take a fraction.
/// ext4 allows 65,000 links to one inode, so each base file takes at most 60,000.
func createEmptyFiles(_ count: Int, in directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let linksPerBase = 60_000
    for first in stride(from: 0, to: count, by: linksPerBase) {
        let base = directory.path + "/.base\(first)"
        let fd = open(base, O_CREAT | O_WRONLY | O_EXCL, 0o644)
        guard fd >= 0 else { throw HardUnexpected("cannot create \(base): errno \(errno)") }
        close(fd)
        defer { unlink(base) }
        for index in first..<min(count, first + linksPerBase) {
            let path = directory.path + "/f\(index)"
            guard link(base, path) == 0 else { throw HardUnexpected("cannot link \(path): errno \(errno)") }
        }
    }
}

// MARK: threads

/// A value shared between threads under a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
    var current: Value { withLock { $0 } }
}

/// Runs `body` on a new thread; the returned semaphore is signalled when it is done.
@discardableResult
func onThread(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        done.signal()
    }
    thread.stackSize = 1 << 20
    thread.start()
    return done
}

/// Polls `condition` every 10 ms for up to `timeout`; true if it became true.
func eventually(within timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        usleep(10_000)
    }
    return true
}

extension Duration {
    /// In seconds, as a Double, for messages and comparisons.
    var hardSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The codes a path that must not be served may be refused with.
let hardRefusalCodes: Set<ErrorCode> = [.invalidPath, .notFound, .permissionDenied, .isDirectory, .notDirectory]
