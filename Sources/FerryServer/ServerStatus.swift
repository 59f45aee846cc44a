import FerryWire
import Synchronization

/// The counts a status probe reports (docs/PROTOCOL.md section 11), kept with atomics so that counting
/// costs a session or a transfer one increment and one decrement, and never a lock.
public final class ServerStatus: Sendable {
    /// The protocol versions the TCP port speaks.
    public let protocols: [Int]
    /// Connections at once beyond which new ones are refused `busy`.
    let maxConnections: Int
    private let started = ContinuousClock.now
    private let connections = Atomic<Int>(0)
    private let sessions = Atomic<Int>(0)
    private let transfers = Atomic<Int>(0)
    private let malformed = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)

    init(protocols: [Int], maxConnections: Int) {
        self.protocols = protocols
        self.maxConnections = maxConnections
    }

    func connectionOpened() { connections.add(1, ordering: .relaxed) }
    func connectionClosed() { connections.subtract(1, ordering: .relaxed) }
    func sessionOpened() { sessions.add(1, ordering: .relaxed) }
    func sessionClosed() { sessions.subtract(1, ordering: .relaxed) }
    func transferStarted() { transfers.add(1, ordering: .relaxed) }
    func transferEnded() { transfers.subtract(1, ordering: .relaxed) }
    func malformedDropped() { malformed.add(1, ordering: .relaxed) }
    /// From now on the server admits no one.
    func stop() { stopping.store(true, ordering: .relaxed) }

    /// Logged-in sessions now.
    public var sessionCount: Int { sessions.load(ordering: .relaxed) }
    /// Transfers in flight now.
    public var transferCount: Int { transfers.load(ordering: .relaxed) }
    /// Malformed probe datagrams dropped so far.
    public var malformedCount: UInt64 { malformed.load(ordering: .relaxed) }

    /// What a reply carries now.
    public func report() -> StatusReport {
        StatusReport(
            server: "ferryd/\(FerryVersion.current)",
            protocols: protocols,
            uptime: UInt64((ContinuousClock.now - started).components.seconds),
            sessions: UInt64(max(0, sessionCount)),
            transfers: UInt64(max(0, transferCount)),
            accepting: !stopping.load(ordering: .relaxed) && connections.load(ordering: .relaxed) < maxConnections,
            malformed: malformedCount
        )
    }
}
