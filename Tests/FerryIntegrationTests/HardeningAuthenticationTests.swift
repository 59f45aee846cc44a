import FerryCrypto
import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Login under attack: what a failure reveals, replays, messages out of order, hostile user names.
/// Each test stays well under the failed-login ban threshold of its own server.
@Suite struct HardeningAuthenticationTests {
    /// Time from sending auth_finish to the answer, and the answer.
    static func timedFailure(_ server: TestServer, user: String, password: String) throws -> (Duration, ErrorReply) {
        let connection = try HardConnection(port: server.port)
        var scram = ScramClient(username: user, password: password)
        try connection.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: scram.clientFirstMessage)))
        guard case .authChallenge(let first) = try connection.receive() else { throw HardUnexpected("no challenge for \(user)") }
        let final = try scram.clientFinalMessage(serverFirst: first.message)
        let started = ContinuousClock.now
        try connection.send(.authFinish(AuthMessage(message: final)))
        let reply = try connection.receiveError(timeout: .seconds(5))
        let elapsed = ContinuousClock.now - started
        #expect(connection.closedByServer(within: .seconds(2)), "closed after a failed login")
        return (elapsed, reply)
    }

    @Test func wrongProofAndUnknownUserFailTheSameWayInTheSameTime() throws {
        let delay = Duration.milliseconds(300)
        let server = try TestServer { $0.failedLoginDelay = delay }
        var wrongProof: [Duration] = []
        var unknownUser: [Duration] = []
        for _ in 0..<3 {
            let (t1, r1) = try Self.timedFailure(server, user: "alice", password: "not-the-password")
            let (t2, r2) = try Self.timedFailure(server, user: "mallory", password: TestServer.password)
            #expect(r1.code == .authFailed && r2.code == .authFailed)
            #expect(r1.message == r2.message, "\(r1.message) vs \(r2.message)")
            wrongProof.append(t1)
            unknownUser.append(t2)
        }
        for time in wrongProof + unknownUser {
            #expect(time >= delay, "a failed login was answered after \(time), before the configured delay")
        }
        // Minimums: the least disturbed by other tests running at the same time.
        let difference = (wrongProof.min()! - unknownUser.min()!).hardSeconds
        #expect(abs(difference) < 0.150, "wrong proof \(wrongProof), unknown user \(unknownUser)")
        // The challenge looks alike too: same salt for the same unknown name, same iteration count.
        let a = try HardConnection(port: server.port), b = try HardConnection(port: server.port)
        var challenges: [String] = []
        for (connection, user) in [(a, "mallory"), (b, "mallory")] {
            try connection.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: ScramClient(username: user, password: "x").clientFirstMessage)))
            guard case .authChallenge(let first) = try connection.receive() else { Issue.record("no challenge"); return }
            challenges.append(first.message)
        }
        let fields = challenges.map { $0.split(separator: ",").dropFirst().joined(separator: ",") }
        #expect(fields[0] == fields[1], "an unknown user's salt and count are stable: \(challenges)")
    }

    @Test func aClientFinalReplayedOnAnotherConnectionIsRejected() throws {
        let server = try TestServer()
        let nonce = "fixed-client-nonce-for-replay"
        // Connection 1: a real login, with the client-final captured.
        let first = try HardConnection(port: server.port)
        var scram = ScramClient(username: "alice", password: TestServer.password, nonce: nonce)
        try first.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: scram.clientFirstMessage)))
        guard case .authChallenge(let challenge1) = try first.receive() else { Issue.record("no challenge"); return }
        let captured = try scram.clientFinalMessage(serverFirst: challenge1.message)
        try first.send(.authFinish(AuthMessage(message: captured)))
        guard case .authOK = try first.receive() else { Issue.record("the original login failed"); return }

        // Connection 2: the same client-first, then the captured client-final.
        let second = try HardConnection(port: server.port)
        try second.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: scram.clientFirstMessage)))
        guard case .authChallenge(let challenge2) = try second.receive() else { Issue.record("no second challenge"); return }
        #expect(challenge1.message != challenge2.message, "the server nonce must differ")
        try second.send(.authFinish(AuthMessage(message: captured)))
        let answer = try second.receive()
        #expect(errorCode(answer) == .authFailed, "replay got \(answer)")
        #expect(second.closedByServer(within: .seconds(2)))
        #expect(try first.list("").entries.isEmpty, "the original session is unaffected")
    }

    @Test func authFinishFirstIsRefusedAndLoginStillPossible() throws {
        let server = try TestServer()
        let connection = try HardConnection(port: server.port)
        try connection.send(.authFinish(AuthMessage(message: "c=biws,r=abc,p=AAAA")))
        #expect(try connection.receiveError().code == .notAuthenticated)
        guard case .authOK = try connection.login() else { Issue.record("login after a stray auth_finish failed"); return }
        #expect(try connection.list("").entries.isEmpty)
    }

    @Test func aSecondAuthStartAfterLoginIsRefusedAndTheSessionContinues() throws {
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        try connection.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: ScramClient(username: "reader", password: TestServer.password).clientFirstMessage)))
        let start = try connection.receiveError()
        #expect(start.code == .badRequest)
        #expect(start.message.contains("already logged in"), "\(start.message)")
        try connection.send(.authFinish(AuthMessage(message: "c=biws,r=x,p=AAAA")))
        #expect(try connection.receiveError().code == .badRequest)
        // Still alice, still allowed to write (reader could not).
        guard case .stored = try connection.put("mine.txt", Array("ok".utf8)) else { Issue.record("put after refusals failed"); return }
        #expect(try server.names() == ["mine.txt"])
    }

    @Test(arguments: ["garbage", "", "n,,", "n,,n=alice", "n,,r=nonce", "p=tls-unique,,n=alice,r=abc", "n,a=bob,n=alice,r=abc",
                      "n,,m=ext,n=alice,r=abc", "n,,n=al=3Xice,r=abc", "n,,n=,r=abc", "n,,n=alice,r=", "x,,n=alice,r=abc",
                      "n,,n=alice,r=ab,c"])
    func garbageClientFirstIsRefusedAndClosed(_ text: String) throws {
        let server = try TestServer()
        let connection = try HardConnection(port: server.port)
        try connection.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: text)))
        let answer = try connection.receive()
        #expect(errorCode(answer) == .badRequest, "\(text.debugDescription) got \(answer)")
        #expect(connection.closedByServer(within: .seconds(2)))
        #expect(try HardConnection.loggedIn(server).list("").entries.isEmpty, "the server serves others")
    }

    @Test(arguments: ["garbage", "", "c=biws", "c=biws,r=", "c=biws,r=x,p=", "c=biws,r=x,p=!!!!", "p=AAAA,c=biws"])
    func garbageClientFinalFailsTheLogin(_ text: String) throws {
        let server = try TestServer()
        let connection = try HardConnection(port: server.port)
        try connection.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: ScramClient(username: "alice", password: "x").clientFirstMessage)))
        guard case .authChallenge = try connection.receive() else { Issue.record("no challenge"); return }
        try connection.send(.authFinish(AuthMessage(message: text)))
        let answer = try connection.receive()
        #expect([ErrorCode.authFailed, .badRequest].contains(errorCode(answer)), "\(text.debugDescription) got \(answer)")
        #expect(connection.closedByServer(within: .seconds(2)))
        #expect(try HardConnection.loggedIn(server).list("").entries.isEmpty)
    }

    @Test func anythingButAuthFinishAfterTheChallengeIsRefused() throws {
        let server = try TestServer()
        let connection = try HardConnection(port: server.port)
        try connection.send(.authStart(AuthStart(mechanism: Hello.scramSHA256, message: ScramClient(username: "alice", password: "x").clientFirstMessage)))
        guard case .authChallenge = try connection.receive() else { Issue.record("no challenge"); return }
        try connection.send(.list(PathRequest(path: "")))
        #expect(try connection.receiveError().code == .badRequest)
        #expect(connection.closedByServer(within: .seconds(2)))
    }

    @Test func aSixtyKilobyteUserNameNeverLogsIn() throws {
        let server = try TestServer()
        let name = String(repeating: "a", count: 60_000)
        let connection = try HardConnection(port: server.port)
        let outcome = try connection.login(user: name)
        switch outcome {
        case .error(let reply): #expect([ErrorCode.authFailed, .badRequest].contains(reply.code), "\(reply)")
        default: Issue.record("a 60 KB user name got \(outcome)")
        }
        #expect(connection.closedByServer(within: .seconds(3)))
        // Just over the frame limit as well: refused as too large, then closed.
        let huge = try HardConnection(port: server.port)
        // The server stops reading at the prefix, so the rest may meet a closed socket (a reset): tolerated.
        try? huge.sendJSON(#"{"type":"auth_start","mechanism":"SCRAM-SHA-256","message":"n,,n="# + String(repeating: "b", count: 65_600) + #",r=abc"}"#)
        if let answer = try? huge.receive() {
            #expect(errorCode(answer) == .tooLarge, "got \(answer)")
        }
        #expect(huge.closedByServer(within: .seconds(3)))
        #expect(try HardConnection.loggedIn(server).list("").entries.isEmpty, "the server serves others")
    }

    struct HostileName: CustomTestStringConvertible, Sendable {
        let label: String
        /// A name usable through ScramClient (valid Unicode), logged in with alice's real password...
        let name: String?
        /// ...or a raw auth_start payload, for what JSON strings cannot carry.
        let rawPayload: [UInt8]?
        var testDescription: String { label }
    }

    static let hostileNames: [HostileName] = [
        HostileName(label: "alice + NUL", name: "alice\u{0}", rawPayload: nil),
        HostileName(label: "NUL + alice", name: "\u{0}alice", rawPayload: nil),
        HostileName(label: "alice + newline", name: "alice\n", rawPayload: nil),
        HostileName(label: "alice + CR LF + forged log line", name: "alice\r\nlogin reader", rawPayload: nil),
        HostileName(label: "control characters", name: "al\u{1}\u{7}\u{1b}[2Jice", rawPayload: nil),
        HostileName(label: "DEL", name: "alice\u{7f}", rawPayload: nil),
        HostileName(label: "upper case ALICE", name: "ALICE", rawPayload: nil),
        HostileName(label: "padded alice", name: " alice ", rawPayload: nil),
        HostileName(label: "alice with a zero-width space", name: "ali\u{200B}ce", rawPayload: nil),
        HostileName(label: "alice in full-width letters", name: "ａｌｉｃｅ", rawPayload: nil),
        HostileName(label: "alice with escaped comma", name: "alice,", rawPayload: nil),
        HostileName(label: "invalid UTF-8 bytes", name: nil,
                    rawPayload: Array(#"{"type":"auth_start","mechanism":"SCRAM-SHA-256","message":"n,,n=alice"#.utf8) + [0xFF, 0xC0, 0x80] + Array(#",r=abcdef"}"#.utf8)),
        HostileName(label: "lone surrogate escape", name: nil,
                    rawPayload: Array(#"{"type":"auth_start","mechanism":"SCRAM-SHA-256","message":"n,,n=alice\ud800,r=abcdef"}"#.utf8)),
        HostileName(label: "escaped NUL in JSON", name: nil,
                    rawPayload: Array(#"{"type":"auth_start","mechanism":"SCRAM-SHA-256","message":"n,,n=alice\u0000,r=abcdef"}"#.utf8)),
    ]

    @Test(arguments: hostileNames)
    func aHostileUserNameNeverLogsIn(_ hostile: HostileName) throws {
        let server = try TestServer()
        let connection = try HardConnection(port: server.port)
        let outcome: Message
        if let name = hostile.name {
            outcome = try connection.login(user: name, password: TestServer.password)
        } else {
            try connection.sendPayload(hostile.rawPayload!)
            let first = try connection.receive()
            if case .authChallenge(let challenge) = first {
                // Whatever the server made of the name, answer as alice would: it must not be accepted.
                var scram = ScramClient(username: "alice", password: TestServer.password, nonce: "abcdef")
                let final = try scram.clientFinalMessage(serverFirst: challenge.message)
                try connection.send(.authFinish(AuthMessage(message: final)))
                outcome = try connection.receive()
            } else {
                outcome = first
            }
        }
        #expect([ErrorCode.authFailed, .badRequest].contains(errorCode(outcome)), "\(hostile.label) got \(outcome)")
        #expect(connection.closedByServer(within: .seconds(3)))
        #expect(try HardConnection.loggedIn(server).list("").entries.isEmpty, "no crash; the server serves others")
    }
}
