#if canImport(Glibc)
import Glibc
#endif
import FerryServer
import FerryWire
import Foundation
import Testing

/// What an attacker can do to ferryd's records and leftovers: forge log lines with names, and leave
/// temporary files where no sweep looked. Against the ferryd binary, as an operator runs it.
@Suite struct AttackLogTests {
    /// C1 controls (NEL, CSI), a bidi override and a CR LF with a forged line, in file and user names.
    static let hostileName = "report\u{85}forged\u{9B}2J\u{202E}fdp.exe"

    /// The scalars in `text` that no log line may carry raw (newlines between lines aside).
    static func unsafeScalars(in text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { LogText.isUnsafe($0) && $0 != "\n" }
    }

    @Test func hostileNamesAreEscapedInTheLogAndTheTransferLog() throws {
        let daemon = try FerrydProcess(server: "transfer_log = transfers.log\n")
        let carol = try daemon.carol()
        let body = Array("payload".utf8)
        #expect(errorCode(try carol.put(Self.hostileName, body)) == nil)
        #expect(try carol.get(Self.hostileName).body == body)
        #expect(throws: ErrorReply.self) { try carol.get(Self.hostileName + "\u{2028}missing") }
        let forger = try HardConnection(port: daemon.port, tls: true)
        _ = try forger.login(user: "carol\r\n2026-01-01 info ferryd: login root\u{85}", password: "wrong")
        _ = carol.closedByServer(within: .milliseconds(100))
        #expect(eventually { daemon.log.contains("login failed") })

        let log = daemon.log
        #expect(Self.unsafeScalars(in: log).isEmpty, "raw in ferryd's log: \(Self.unsafeScalars(in: log).map { String($0.value, radix: 16) })")
        #expect(log.contains(#"report\u{85}forged\u{9b}2J\u{202e}fdp.exe"#), "the name is there, escaped")
        #expect(!log.contains("\n2026-01-01 info ferryd: login root"), "no forged line")

        let transfers = try String(contentsOf: daemon.local.file("transfers.log"), encoding: .utf8)
        #expect(Self.unsafeScalars(in: transfers).isEmpty, "raw in the transfer log")
        let records = try transfers.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
        #expect(records.count == 3)
        #expect(records.prefix(2).allSatisfy { $0["path"] as? String == Self.hostileName }, "JSON readers get the name back exactly")
    }

    /// An upload interrupted by kill -9 at 200 levels down (the sweep used to stop at 64) is removed
    /// when ferryd starts again.
    @Test func aTemporaryFileDeepDownIsSweptAtTheNextStart() throws {
        var daemon: FerrydProcess? = try FerrydProcess()
        let local = daemon!.local
        let deep = (0..<200).map { _ in "d" }.joined(separator: "/")
        try FileManager.default.createDirectory(at: local.file("share/" + deep), withIntermediateDirectories: true)
        let carol = try daemon!.carol()
        let (ready, body) = try HardeningQuotaTests.startPut(carol, deep + "/big.bin", size: 4 << 20)
        #expect(ready == .ready)
        try carol.sendBytes(Array(body.prefix(1 << 20)))
        let under = local.file("share")
        #expect(eventually { temporaryFiles(under: under).count == 1 })
        kill(daemon!.process.processIdentifier, SIGKILL)
        daemon!.process.waitUntilExit()
        #expect(temporaryFiles(under: under).count == 1, "kill -9 left the partial upload")

        let (restarted, _, _) = try DaemonTests.start(config: local.file("config.ini"))
        defer { restarted.terminate(); restarted.waitUntilExit() }
        #expect(temporaryFiles(under: under).isEmpty, "swept at start: \(temporaryFiles(under: under))")
        daemon = nil
    }
}
