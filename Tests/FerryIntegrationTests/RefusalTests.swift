import FerryClient
import FerryCrypto
import FerryPosix
@testable import FerryServer
import FerryWire
import Foundation
import Testing

/// Bad input gets a clear error, the session goes on, and nothing is lost or leaked.
@Suite struct RefusalTests {
    @Test func wrongPasswordAndUnknownUserFailAlike() throws {
        let server = try TestServer()
        for (user, password) in [("alice", "wrong"), ("nobody", "secret")] {
            let session = try ClientSession.connect(host: "127.0.0.1", port: server.port)
            let error = try #require(throws: ClientError.self) { try session.login(user: user, password: password) }
            #expect(error.code == .authFailed)
            #expect(error.message == "wrong user name or password")
        }
    }

    @Test func aReadOnlyUserCannotPutAndNothingIsWritten() throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        try Data(count: 10_000).write(to: local.file("x.bin"))
        let session = try server.login("reader")
        #expect(session.readOnly)
        let error = try #require(throws: ClientError.self) { try session.upload(local.file("x.bin").path, to: "x.bin") }
        #expect(error.code == .permissionDenied)
        #expect(try server.names().isEmpty)
        #expect(try session.list("").entries.isEmpty, "the session goes on after the refusal")
    }

    @Test func getOfAMissingFileFailsAndTheSessionContinues() throws {
        let server = try TestServer()
        try Data("here".utf8).write(to: server.url("present.txt"))
        let local = try LocalDirectory()
        let session = try server.login()
        let error = try #require(throws: ClientError.self) {
            try session.download("absent.txt", to: LocalDestination(directory: local.path, name: "absent.txt"))
        }
        #expect(error.code == .notFound)
        #expect(try local.names().isEmpty)
        let result = try session.download("present.txt", to: LocalDestination(directory: local.path, name: "present.txt"))
        #expect(result.bytes == 4)
    }

    @Test(arguments: ["../config.ini", "/config.ini", "a/../../config.ini", "..\\config.ini", "%2e%2e/config.ini", "config.ini\u{0}"])
    func nothingOutsideTheRootIsReadable(path: String) throws {
        let server = try TestServer()
        let local = try LocalDirectory()
        let session = try server.login()
        let error = try #require(throws: ClientError.self) {
            try session.download(path, to: LocalDestination(directory: local.path, name: "out"))
        }
        #expect([ErrorCode.invalidPath, .notFound].contains(error.code))
        #expect(try local.names().isEmpty)
        #expect(try session.list("").entries.isEmpty, "the session goes on")
    }

    @Test func symlinksLeadingOutsideAreRefusedAndThoseInsideFollowed() throws {
        let server = try TestServer()
        try Data("inside".utf8).write(to: server.url("real.txt"))
        let manager = FileManager.default
        try manager.createSymbolicLink(atPath: server.url("in.txt").path, withDestinationPath: "real.txt")
        try manager.createSymbolicLink(atPath: server.url("out.txt").path, withDestinationPath: "../config.ini")
        try manager.createSymbolicLink(atPath: server.url("abs.txt").path, withDestinationPath: server.directory.appendingPathComponent("config.ini").path)
        try manager.createSymbolicLink(atPath: server.url("updir").path, withDestinationPath: "..")
        let local = try LocalDirectory()
        let session = try server.login()
        let fetched = try session.download("in.txt", to: LocalDestination(directory: local.path, name: "in.txt"))
        #expect(fetched.bytes == 6)
        for path in ["out.txt", "abs.txt", "updir/config.ini"] {
            let error = try #require(throws: ClientError.self) {
                try session.download(path, to: LocalDestination(directory: local.path, name: "x"))
            }
            #expect(error.code == .permissionDenied, "\(path)")
        }
        let listing = try #require(throws: ClientError.self) { try session.list("updir") }
        #expect(listing.code == .permissionDenied)
        #expect(try local.names() == ["in.txt"])
    }

    @Test func aPutWithTheWrongMD5StoresNothingAndKeepsTheOldFile() throws {
        let server = try TestServer()
        try Data("original".utf8).write(to: server.url("keep.txt"))
        let session = try server.login()
        let raw = RawClient(session)
        let body = Array("replacement".utf8)
        try raw.send(.put(PutRequest(path: "keep.txt", size: UInt64(body.count), md5: String(repeating: "0", count: 32))))
        #expect(try raw.receive() == .ready)
        try raw.sendRaw(body)
        guard case .error(let reply) = try raw.receive() else { Issue.record("expected an error"); return }
        #expect(reply.code == .checksumMismatch)
        #expect(try String(contentsOf: server.url("keep.txt"), encoding: .utf8) == "original")
        #expect(try server.names() == ["keep.txt"])
        #expect(try session.list("").entries.map(\.name) == ["keep.txt"], "the session goes on")
    }

    @Test func anUploadCutShortLeavesNothingBehind() throws {
        let server = try TestServer()
        try Data("original".utf8).write(to: server.url("keep.txt"))
        let session = try server.login()
        let raw = RawClient(session)
        try raw.send(.put(PutRequest(path: "keep.txt", size: 1_000_000, md5: String(repeating: "a", count: 32))))
        #expect(try raw.receive() == .ready)
        try raw.sendRaw(Array(repeating: 7, count: 300_000))
        session.close()
        try waitUntil { server.server.connectionCount == 0 }
        #expect(try server.names() == ["keep.txt"])
        #expect(try String(contentsOf: server.url("keep.txt"), encoding: .utf8) == "original")
    }

    @Test func aDownloadThatFailsVerificationLeavesNoFile() throws {
        let server = try TestServer()
        try Data("the real bytes".utf8).write(to: server.url("f.txt"))
        let file = try File.openForReading(path: server.url("f.txt").path)
        let status = try FileStatus.of(file)
        // The server's manifest names other bytes than it sends.
        server.server.manifests.store(Manifest(size: 14, chunks: [[UInt8](repeating: 0xff, count: 32)], md5: nil), for: file, status: status)
        let local = try LocalDirectory()
        try Data("previous".utf8).write(to: local.file("f.txt"))
        let error = try #require(throws: ClientError.self) {
            try server.login().download("f.txt", to: LocalDestination(directory: local.path, name: "f.txt"))
        }
        #expect(error.code == .checksumMismatch)
        #expect(try local.names() == ["f.txt"], "a partial without one verified chunk is not kept")
        #expect(try String(contentsOf: local.file("f.txt"), encoding: .utf8) == "previous")
    }

    @Test func aProtocol1DownloadThatFailsItsMD5LeavesNoFile() throws {
        let server = try TestServer { $0.offersChunks = false }
        try Data("the real bytes".utf8).write(to: server.url("f.txt"))
        let status = try FileStatus.of(File.openForReading(path: server.url("f.txt").path))
        server.server.digests.store(String(repeating: "f", count: 32), for: status)
        let local = try LocalDirectory()
        try Data("previous".utf8).write(to: local.file("f.txt"))
        let session = try server.login()
        #expect(!session.chunked, "the client falls back to get when the server offers no chunks")
        let error = try #require(throws: ClientError.self) {
            try session.download("f.txt", to: LocalDestination(directory: local.path, name: "f.txt"))
        }
        #expect(error.code == .checksumMismatch)
        #expect(try local.names() == ["f.txt"])
        #expect(try String(contentsOf: local.file("f.txt"), encoding: .utf8) == "previous")
    }

    @Test func putOntoADirectoryOrSymlinkIsRefused() throws {
        let server = try TestServer()
        try FileManager.default.createDirectory(at: server.url("dir"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: server.url("link").path, withDestinationPath: "nowhere")
        let local = try LocalDirectory()
        try Data("x".utf8).write(to: local.file("x"))
        let session = try server.login()
        let onDirectory = try #require(throws: ClientError.self) { try session.upload(local.file("x").path, to: "dir") }
        #expect(onDirectory.code == .isDirectory)
        let onLink = try #require(throws: ClientError.self) { try session.upload(local.file("x").path, to: "link") }
        #expect(onLink.code == .permissionDenied)
        #expect(try server.names() == ["dir", "link"])
    }
}

/// Waits up to five seconds for `condition`.
func waitUntil(timeout: TimeInterval = 5, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { throw TimedOut() }
        usleep(10_000)
    }
}

struct TimedOut: Error {}
