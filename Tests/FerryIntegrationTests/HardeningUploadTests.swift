import FerryPosix
@testable import FerryServer
import FerryTransport
import FerryWire
import Foundation
import Testing

/// Uploads that lie about their size, stop half-way, race each other or cannot fit.
@Suite struct HardeningUploadTests {
    @Test func anUploadCutShortByTheClientLeavesNothingBehind() throws {
        let server = try TestServer()
        try Data("original".utf8).write(to: server.url("keep.txt"))
        try FileManager.default.createDirectory(at: server.url("sub"), withIntermediateDirectories: true)
        for (path, declared, sent) in [("keep.txt", 1_000_000, 300_000), ("sub/new.bin", 5_000, 4_999), ("fresh.bin", 10, 0)] {
            let connection = try HardConnection.loggedIn(server)
            try connection.send(.put(PutRequest(path: path, size: UInt64(declared), md5: String(repeating: "a", count: 32))))
            #expect(try connection.receive() == .ready)
            if sent > 0 { try connection.sendBytes([UInt8](repeating: 7, count: sent)) }
            #expect(eventually { !temporaryFiles(under: server.share).isEmpty }, "an upload in progress has a temporary file")
            connection.socket.close()
            #expect(eventually { server.server.connectionCount == 0 }, "the server notices the close")
        }
        #expect(try server.names() == ["keep.txt", "sub"])
        #expect(try server.names(in: "sub").isEmpty)
        #expect(temporaryFiles(under: server.directory).isEmpty)
        #expect(try String(contentsOf: server.url("keep.txt"), encoding: .utf8) == "original")
    }

    @Test func anUploadThatStallsIsClosedByTheStallTimeoutAndLeavesNothing() throws {
        let server = try TestServer { $0.stallTimeout = .milliseconds(300) }
        try Data("original".utf8).write(to: server.url("keep.txt"))
        let connection = try HardConnection.loggedIn(server)
        try connection.send(.put(PutRequest(path: "keep.txt", size: 100_000, md5: String(repeating: "a", count: 32))))
        #expect(try connection.receive() == .ready)
        try connection.sendBytes([UInt8](repeating: 1, count: 50_000))
        let started = ContinuousClock.now
        // Inside a body the server sends no frame: it just closes.
        #expect(connection.closedByServer(within: .seconds(3)))
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(eventually { server.server.connectionCount == 0 })
        #expect(try server.names() == ["keep.txt"])
        #expect(try String(contentsOf: server.url("keep.txt"), encoding: .utf8) == "original")
    }

    @Test func bytesBeyondTheDeclaredSizeAreReadAsTheNextFrame() throws {
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        let body = Array("hello".utf8)
        try connection.send(.put(PutRequest(path: "a.txt", size: 5, md5: md5Hex(body))))
        #expect(try connection.receive() == .ready)
        // The body, then a whole stat frame, in a single write.
        try connection.sendBytes(body + HardConnection.frame(.stat(PathRequest(path: "a.txt"))))
        guard case .stored(let stored) = try connection.receive() else { Issue.record("not stored"); return }
        #expect(stored.size == 5)
        guard case .entry(let entry) = try connection.receive() else { Issue.record("the extra bytes were not read as a frame"); return }
        #expect(entry.entry.name == "a.txt" && entry.entry.size == 5)
        #expect(try Data(contentsOf: server.url("a.txt")) == Data(body))

        // Extra bytes that are no frame: the file is still exactly the declared size, then a framing error.
        let second = try HardConnection.loggedIn(server)
        try second.send(.put(PutRequest(path: "b.txt", size: 5, md5: md5Hex(body))))
        #expect(try second.receive() == .ready)
        try second.sendBytes(body + Array("garbage that is no frame".utf8))
        guard case .stored = try second.receive() else { Issue.record("b.txt not stored"); return }
        if let answer = try? second.receive() {
            #expect([ErrorCode.tooLarge, .badRequest].contains(errorCode(answer)), "got \(answer)")
        }
        #expect(second.closedByServer(within: .seconds(3)))
        #expect(try Data(contentsOf: server.url("b.txt")) == Data(body))
        #expect(try server.names() == ["a.txt", "b.txt"])
    }

    @Test func twoUploadsOfOneNameAtOnceNeverMix() throws {
        let server = try TestServer { $0.chunkSize = 64 * 1024 }
        let size = 4 << 20
        let contents = [Array(try randomBytes(size)), Array(try randomBytes(size))]
        let port = server.port
        let ready = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        let outcomes = Locked<[String]>([])
        var finished: [DispatchSemaphore] = []
        for content in contents {
            ready.enter()
            finished.append(onThread {
                var enteredReady = false
                do {
                    let connection = try HardConnection(port: port)
                    guard case .authOK = try connection.login() else { throw HardUnexpected("login failed") }
                    try connection.send(.put(PutRequest(path: "same.bin", size: UInt64(content.count), md5: md5Hex(content))))
                    let answer = try connection.receive()
                    guard answer == .ready else { throw HardUnexpected("put got \(answer)") }
                    ready.leave()
                    enteredReady = true
                    _ = go.wait(timeout: .now() + 10)
                    try connection.sendBytes(content)
                    let final = try connection.receive(timeout: .seconds(20))
                    outcomes.withLock { $0.append(final.type) }
                } catch {
                    if !enteredReady { ready.leave() }
                    outcomes.withLock { $0.append("\(error)") }
                }
            })
        }
        #expect(ready.wait(timeout: .now() + 10) == .success)
        go.signal()
        go.signal()
        for done in finished { #expect(done.wait(timeout: .now() + 30) == .success) }
        #expect(outcomes.current == ["stored", "stored"])
        let final = try Data(contentsOf: server.url("same.bin"))
        #expect(final == Data(contents[0]) || final == Data(contents[1]), "the file is exactly one upload, never a mix")
        #expect(try server.names() == ["same.bin"], "no temporary file remains")
    }

    @Test(arguments: [UInt64(1) << 62, UInt64(1) << 63, UInt64.max])
    func aSizeBeyondTheFreeSpaceIsRefusedBeforeAnyByte(_ size: UInt64) throws {
        let server = try TestServer()
        let connection = try HardConnection.loggedIn(server)
        try connection.send(.put(PutRequest(path: "huge.bin", size: size, md5: String(repeating: "a", count: 32))))
        let answer = try connection.receive()
        #expect(errorCode(answer) == .tooLarge, "got \(answer)")
        #expect(try server.names().isEmpty, "no temporary file either")
        #expect(try connection.list("").entries.isEmpty, "the session goes on")
    }
}
