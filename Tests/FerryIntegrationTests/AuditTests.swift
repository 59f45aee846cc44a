import FerryClient
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// Abusive addresses are banned; every transfer leaves a JSON line.
@Suite struct AuditTests {
    @Test func repeatedFailedLoginsBanTheAddressWithAClearError() throws {
        let server = try TestServer {
            $0.banThreshold = 3
            $0.failedLoginDelay = .milliseconds(10)
        }
        for _ in 0..<3 {
            let session = try ClientSession.connect(host: "127.0.0.1", port: server.port)
            #expect(throws: ClientError.self) { try session.login(user: "alice", password: "wrong") }
        }
        let refused = try #require(throws: ClientError.self) {
            try ClientSession.connect(host: "127.0.0.1", port: server.port)
        }
        #expect(refused.code == .banned)
        #expect(refused.message.contains("too many failed logins"))
    }

    @Test func everyTransferFinishedOrFailedIsLoggedAsOneJSONLine() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-xfer-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let server = try TestServer { $0.transferLog = log.path }
        try Data("0123456789".utf8).write(to: server.url("ten.txt"))
        let local = try LocalDirectory()
        let session = try server.login()
        _ = try session.download("ten.txt", to: LocalDestination(directory: local.path, name: "ten.txt"))
        #expect(throws: ClientError.self) {
            try session.download("missing.txt", to: LocalDestination(directory: local.path, name: "m"))
        }
        _ = try session.upload(local.file("ten.txt").path, to: "copy.txt")
        session.close()

        // The server appends each line just after its reply, so the last one may trail a little.
        try waitUntil { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").count >= 3 }
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let records = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(records[0]["command"] as? String == "get")
        #expect(records[0]["path"] as? String == "ten.txt")
        #expect(records[0]["bytes"] as? Int == 10)
        #expect(records[0]["result"] as? String == "ok")
        #expect(records[0]["md5"] as? String == "781e5e245d69b566979b86e28d23f2c7")
        #expect(records[0]["user"] as? String == "alice")
        #expect(records[0]["address"] as? String == "127.0.0.1")
        #expect(records[0]["duration_ms"] is Int)
        #expect((records[0]["time"] as? String)?.hasSuffix("Z") == true)
        #expect(records[1]["result"] as? String == "error")
        #expect(records[1]["code"] as? String == "not_found")
        #expect(records[1]["message"] as? String == "no such file or directory")
        #expect(records[1]["bytes"] as? Int == 0)
        #expect(records[0]["code"] == nil && records[0]["message"] == nil, "a transfer that succeeded has neither")
        #expect(records[2]["command"] as? String == "put")
        #expect(records[2]["result"] as? String == "ok")
    }
}
