#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Frames and messages as an attacker writes them: impossible lengths, truncation, odd segmentation,
/// payloads that are not what they claim, and commands out of place.
@Suite struct HardeningFramingTests {
    struct BadPrefix: CustomTestStringConvertible, Sendable {
        let length: UInt32
        let code: ErrorCode
        let afterLogin: Bool
        var testDescription: String { "length \(length) \(afterLogin ? "after" : "before") login → \(code)" }
    }

    static let badPrefixes: [BadPrefix] = [false, true].flatMap { afterLogin in
        [BadPrefix(length: 0, code: .badRequest, afterLogin: afterLogin),
         BadPrefix(length: 65_537, code: .tooLarge, afterLogin: afterLogin),
         BadPrefix(length: 0xFFFF_FFFF, code: .tooLarge, afterLogin: afterLogin)]
    }

    @Test(arguments: badPrefixes)
    func anImpossibleLengthPrefixIsAnsweredAndClosed(_ bad: BadPrefix) throws {
        let server = try TestServer()
        let connection = bad.afterLogin ? try HardConnection.loggedIn(server) : try HardConnection(port: server.port)
        try connection.sendBytes(HardConnection.lengthPrefix(bad.length))
        let reply = try connection.receiveError()
        #expect(reply.code == bad.code, "\(reply.message)")
        #expect(connection.closedByServer(within: .seconds(3)))
        #expect(eventually { server.server.connectionCount == 0 })
        let other = try HardConnection.loggedIn(server)
        #expect(try other.list("").entries.isEmpty, "the server goes on serving others")
    }

    struct Truncation: CustomTestStringConvertible, Sendable {
        let bytes: [UInt8]
        let afterLogin: Bool
        let label: String
        var testDescription: String { "\(label) \(afterLogin ? "after" : "before") login" }
    }

    static let truncations: [Truncation] = [false, true].flatMap { afterLogin in
        [Truncation(bytes: [0, 0], afterLogin: afterLogin, label: "half a length prefix"),
         Truncation(bytes: HardConnection.lengthPrefix(100) + Array(#"{"type":"l"#.utf8), afterLogin: afterLogin,
                    label: "10 of 100 announced bytes")]
    }

    @Test(arguments: truncations)
    func aTruncatedFrameThenSilenceIsClosedByTheTimeout(_ truncation: Truncation) throws {
        let server = try TestServer {
            $0.loginTimeout = truncation.afterLogin ? .seconds(10) : .milliseconds(300)
            $0.idleTimeout = .milliseconds(300)
        }
        let connection = truncation.afterLogin ? try HardConnection.loggedIn(server) : try HardConnection(port: server.port)
        let started = ContinuousClock.now
        try connection.sendBytes(truncation.bytes)
        let reply = try connection.receiveError(timeout: .seconds(3))
        let elapsed = ContinuousClock.now - started
        #expect(reply.code == .timeout, "\(reply.message)")
        #expect(elapsed >= .milliseconds(200), "closed after \(elapsed), before the timeout")
        #expect(elapsed < .seconds(2), "took \(elapsed)")
        #expect(connection.closedByServer(within: .seconds(2)))
        #expect(eventually { server.server.connectionCount == 0 })
    }

    @Test func tricklingAFrameDoesNotExtendTheIdleTimeout() throws {
        let server = try TestServer { $0.idleTimeout = .milliseconds(400) }
        let connection = try HardConnection.loggedIn(server)
        let frame = try HardConnection.frame(.list(PathRequest(path: "a/long/enough/path/to/trickle")))
        let started = ContinuousClock.now
        var answer: Message?
        trickle: for byte in frame {
            do { try connection.sendBytes([byte]) } catch { break trickle }
            do {
                answer = try connection.receive(timeout: .milliseconds(60))
                break trickle
            } catch is TimeoutError {
                continue
            } catch {
                break trickle
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(answer.flatMap(errorCode) == .timeout, "got \(String(describing: answer))")
        #expect(elapsed < .seconds(1.5), "a frame trickled at 60 ms per byte kept the session for \(elapsed)")
        #expect(connection.closedByServer(within: .seconds(2)))
    }

    @Test func framesSplitByteByByteOrCoalescedAreUnderstoodInOrder() throws {
        let server = try TestServer()
        try Data("1".utf8).write(to: server.url("a.txt"))
        try Data("22".utf8).write(to: server.url("b.txt"))
        let connection = try HardConnection.loggedIn(server)

        // One byte per write, with pauses, length prefix included.
        for byte in try HardConnection.frame(.stat(PathRequest(path: "a.txt"))) {
            try connection.sendBytes([byte])
            usleep(1_000)
        }
        guard case .entry(let single) = try connection.receive() else { Issue.record("no entry for a split frame"); return }
        #expect(single.entry.name == "a.txt" && single.entry.size == 1)

        // Three frames in one write: three answers, in order.
        let three = try HardConnection.frame(.stat(PathRequest(path: "b.txt")))
            + HardConnection.frame(.stat(PathRequest(path: "a.txt")))
            + HardConnection.frame(.list(PathRequest(path: "")))
        try connection.sendBytes(three)
        guard case .entry(let first) = try connection.receive(), case .entry(let second) = try connection.receive() else {
            Issue.record("no entries for coalesced frames"); return
        }
        #expect(first.entry.name == "b.txt" && first.entry.size == 2)
        #expect(second.entry.name == "a.txt" && second.entry.size == 1)
        guard case .listing(let listing) = try connection.receive() else { Issue.record("no listing"); return }
        #expect(Set(listing.entries.map(\.name)) == ["a.txt", "b.txt"])

        // A write ending in the middle of the second frame's length prefix, the rest later.
        let pair = try HardConnection.frame(.stat(PathRequest(path: "a.txt"))) + HardConnection.frame(.stat(PathRequest(path: "b.txt")))
        let firstLength = try HardConnection.frame(.stat(PathRequest(path: "a.txt"))).count
        try connection.sendBytes(Array(pair[..<(firstLength + 2)]))
        guard case .entry(let early) = try connection.receive() else { Issue.record("first of a split pair missing"); return }
        #expect(early.entry.name == "a.txt")
        usleep(50_000)
        try connection.sendBytes(Array(pair[(firstLength + 2)...]))
        guard case .entry(let late) = try connection.receive() else { Issue.record("second of a split pair missing"); return }
        #expect(late.entry.name == "b.txt")
    }

    struct Payload: CustomTestStringConvertible, Sendable {
        let label: String
        let bytes: [UInt8]
        var testDescription: String { label }
        init(_ label: String, _ bytes: [UInt8]) {
            self.label = label
            self.bytes = bytes
        }
        init(_ label: String, _ text: String) { self.init(label, Array(text.utf8)) }
    }

    static let malformed: [Payload] = [
        Payload("not JSON", "hello there"),
        Payload("broken JSON in braces", "{not json}"),
        Payload("unterminated object", #"{"type":"ls","path":""#),
        Payload("invalid UTF-8", Array(#"{"type":"ls","path":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)),
        Payload("overlong UTF-8 slash", Array(#"{"type":"get","path":".."#.utf8) + [0xC0, 0xAF] + Array(#"config.ini"}"#.utf8)),
        Payload("a JSON array", #"[{"type":"ls","path":""}]"#),
        Payload("a JSON number", "42"),
        Payload("JSON null", "null"),
        Payload("a JSON string", #""ls""#),
        Payload("10,000 nested [", String(repeating: "[", count: 10_000)),
        Payload("10,000 unclosed [ inside an object", #"{"type":"ls","path":"","x":"# + String(repeating: "[", count: 10_000)),
        Payload("an empty object", "{}"),
        Payload("type is a number", #"{"type":42}"#),
        Payload("type is null", #"{"type":null,"path":""}"#),
        Payload("a byte-order mark first", [0xEF, 0xBB, 0xBF] + Array(#"{"type":"ls","path":""}"#.utf8)),
        Payload("leading whitespace", #" {"type":"ls","path":""}"#),
        Payload("path is a number", #"{"type":"ls","path":7}"#),
        Payload("path is missing", #"{"type":"stat"}"#),
    ]

    @Test(arguments: malformed)
    func aMalformedPayloadAfterLoginIsRefusedAndTheSessionContinues(_ payload: Payload) throws {
        let server = try TestServer()
        try Data("x".utf8).write(to: server.url("present.txt"))
        let connection = try HardConnection.loggedIn(server)
        try connection.sendPayload(payload.bytes)
        let reply = try connection.receiveError()
        #expect(reply.code == .badRequest, "\(reply.message)")
        #expect(try connection.list("").entries.map(\.name) == ["present.txt"], "the session goes on")
        #expect(server.server.connectionCount == 1)
    }

    @Test func deeplyNestedButValidJSONDoesNotCrashTheServer() throws {
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        let deepArrays = #"{"type":"ls","path":"","x":"# + String(repeating: "[", count: 10_000)
            + String(repeating: "]", count: 10_000) + "}"
        let deepObjects = #"{"type":"ls","path":"","x":"# + String(repeating: #"{"a":"#, count: 5_000) + "1"
            + String(repeating: "}", count: 5_001)
        for json in [deepArrays, deepObjects] {
            try connection.sendJSON(json)
            let answer = try connection.receive()
            // An unknown key may be ignored (a listing) or the depth refused (bad_request); nothing else.
            switch answer {
            case .listing(let listing): #expect(!listing.more)
            case .error(let reply): #expect(reply.code == .badRequest, "\(reply.message)")
            default: Issue.record("unexpected \(answer)")
            }
        }
        #expect(try connection.list("").entries.isEmpty, "the session goes on")
        #expect(try HardConnection.loggedIn(server).list("").entries.isEmpty, "and the server serves others")
    }

    @Test func trailingBytesAfterTheObjectAreRefused() throws {
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        for json in [#"{"type":"ls","path":""}xyz"#, #"{"type":"ls","path":""}{"type":"ls","path":""}"#] {
            try connection.sendJSON(json)
            let reply = try connection.receiveError()
            #expect(reply.code == .badRequest, "\(json): \(reply.message)")
        }
        #expect(try connection.list("").entries.isEmpty, "the session goes on")
    }

    static let zeros = String(repeating: "0", count: 32)

    static let badPuts: [Payload] = [
        Payload("size as a string", #"{"type":"put","path":"x.bin","size":"12","md5":"\#(zeros)"}"#),
        Payload("size -1", #"{"type":"put","path":"x.bin","size":-1,"md5":"\#(zeros)"}"#),
        Payload("size 1e400", #"{"type":"put","path":"x.bin","size":1e400,"md5":"\#(zeros)"}"#),
        Payload("size 2^64", #"{"type":"put","path":"x.bin","size":18446744073709551616,"md5":"\#(zeros)"}"#),
        Payload("size 1.5", #"{"type":"put","path":"x.bin","size":1.5,"md5":"\#(zeros)"}"#),
        Payload("size null", #"{"type":"put","path":"x.bin","size":null,"md5":"\#(zeros)"}"#),
        Payload("size true", #"{"type":"put","path":"x.bin","size":true,"md5":"\#(zeros)"}"#),
        Payload("size an array", #"{"type":"put","path":"x.bin","size":[12],"md5":"\#(zeros)"}"#),
        Payload("size missing", #"{"type":"put","path":"x.bin","md5":"\#(zeros)"}"#),
        Payload("path missing", #"{"type":"put","size":12,"md5":"\#(zeros)"}"#),
        Payload("path null", #"{"type":"put","path":null,"size":12,"md5":"\#(zeros)"}"#),
        Payload("path a number", #"{"type":"put","path":12,"size":12,"md5":"\#(zeros)"}"#),
        Payload("path an array", #"{"type":"put","path":["x.bin"],"size":12,"md5":"\#(zeros)"}"#),
        Payload("md5 missing", #"{"type":"put","path":"x.bin","size":12}"#),
        Payload("md5 a number", #"{"type":"put","path":"x.bin","size":12,"md5":12}"#),
        Payload("md5 not hex", #"{"type":"put","path":"x.bin","size":12,"md5":"\#(String(repeating: "z", count: 32))"}"#),
        Payload("md5 31 digits", #"{"type":"put","path":"x.bin","size":12,"md5":"\#(String(repeating: "0", count: 31))"}"#),
        Payload("md5 34 digits", #"{"type":"put","path":"x.bin","size":12,"md5":"\#(String(repeating: "0", count: 34))"}"#),
    ]

    @Test(arguments: badPuts)
    func aPutWithBadFieldsIsRefusedAndWritesNothing(_ payload: Payload) throws {
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        try connection.sendPayload(payload.bytes)
        let answer = try connection.receive()
        #expect(errorCode(answer) == .badRequest, "got \(answer)")
        #expect(try server.names().isEmpty, "nothing written to the share, hidden files included")
        #expect(try connection.list("").entries.isEmpty, "the session goes on")
    }

    @Test(arguments: [
        Payload("size 12.0", #"{"type":"put","path":"x.bin","size":12.0,"md5":"\#(zeros)"}"#),
        Payload("size 1.2e1", #"{"type":"put","path":"x.bin","size":1.2e1,"md5":"\#(zeros)"}"#),
    ])
    func aSizeWrittenAsAFloatLiteralIsRefused(_ payload: Payload) throws {
        // PROTOCOL.md: sizes are plain integer literals, "never 3.0e6".
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        try connection.sendPayload(payload.bytes)
        let answer = try connection.receive()
        #expect(errorCode(answer) == .badRequest, "got \(answer)")
        #expect(try server.names().isEmpty)
    }

    @Test func anUnknownOrServerOnlyMessageAfterLoginIsRefusedAndTheSessionContinues() throws {
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        for json in [#"{"type":"frobnicate","path":""}"#, #"{"type":"ready"}"#, #"{"type":"listing","entries":[],"more":false}"#,
                     #"{"type":"hello","protocol":1,"server":"x","auth":[],"chunk_size":1}"#,
                     #"{"type":"error","code":"internal","message":"x"}"#] {
            try connection.sendJSON(json)
            let reply = try connection.receiveError()
            #expect(reply.code == .badRequest, "\(json): \(reply.message)")
        }
        #expect(try connection.list("").entries.isEmpty, "the session goes on")
    }

    @Test func fileCommandsBeforeLoginAreRefusedAndTouchNothing() throws {
        let server = try TestServer()
        try Data("secret contents".utf8).write(to: server.url("present.txt"))
        let before = treeSnapshot(server.directory)
        let connection = try HardConnection(port: server.port)
        let requests: [Message] = [
            .list(PathRequest(path: "")),
            .stat(PathRequest(path: "present.txt")),
            .get(PathRequest(path: "present.txt")),
            .put(PutRequest(path: "new.txt", size: 4, md5: md5Hex(Array("evil".utf8)))),
            .put(PutRequest(path: "present.txt", size: 4, md5: md5Hex(Array("evil".utf8)))),
        ]
        for request in requests {
            try connection.send(request)
            let answer = try connection.receive()
            #expect(errorCode(answer) == .notAuthenticated, "\(request.type): \(answer)")
        }
        #expect(treeSnapshot(server.directory) == before, "no file was created or changed")
        // Still in the login phase: a proper login on the same connection works.
        guard case .authOK = try connection.login() else { Issue.record("login after refusals failed"); return }
        #expect(try connection.list("").entries.map(\.name) == ["present.txt"])
    }
}
