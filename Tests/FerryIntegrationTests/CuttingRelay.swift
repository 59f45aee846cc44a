import Dispatch
import FerryPosix
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP relay for tests of interrupted transfers: it listens on 127.0.0.1 (port 0; the real one
/// is ``port``) and for each client it accepts opens a connection to the server's port and copies bytes
/// both ways, one thread per direction.
///
/// Connections are numbered 1, 2, … in the order accepted. A rule for one connection and direction
/// lets exactly `after` bytes pass that way, then either **cuts** the connection (shutdown and close of
/// both sockets: each end sees the connection end, no byte beyond the limit arrives) or **holds** it
/// (stops copying that way but keeps both sockets open, as a network that went silent, until the other
/// direction ends or the relay stops). A rule may be given before its connection exists or while it
/// runs, as long as its bytes have not passed yet; connections without a rule pass through untouched.
/// Counts are per connection and direction, taken before the bytes are written on, so a peer that has
/// received a byte always finds it counted: a test can compute where to cut (e.g. the count after the
/// login plus the exact frame lengths of what follows) and assert how much a resume moved.
///
/// Stops at ``stop()`` or deinit: closes the listener and every connection and waits for its threads.
final class CuttingRelay: Sendable {
    enum Direction: Sendable, Hashable { case clientToServer, serverToClient }

    /// Bytes that passed a connection each way.
    struct Passed: Sendable, Equatable {
        var clientToServer: UInt64 = 0
        var serverToClient: UInt64 = 0
        subscript(direction: Direction) -> UInt64 {
            get { direction == .clientToServer ? clientToServer : serverToClient }
            set { if direction == .clientToServer { clientToServer = newValue } else { serverToClient = newValue } }
        }
    }

    private let core: Core

    /// Starts relaying from a new port on 127.0.0.1 to `upstreamPort` on 127.0.0.1.
    init(to upstreamPort: Int) throws {
        Posix.ignoreSIGPIPE()
        core = Core(listener: try ListeningSocket(host: "127.0.0.1", port: 0), upstreamPort: upstreamPort)
        core.startAccepting()
    }

    var port: Int { core.listener.localAddress.port }

    /// Connection `connection` (1 = the first accepted) is cut once `after` bytes have passed `direction`.
    func cut(connection: Int, _ direction: Direction, after bytes: UInt64) {
        core.setRule(connection, direction, Rule(limit: bytes, hold: false))
    }

    /// Connection `connection` stops copying `direction` once `after` bytes have passed it, and stays
    /// open: the receiver waits, the sender's writes back up.
    func hold(connection: Int, _ direction: Direction, after bytes: UInt64) {
        core.setRule(connection, direction, Rule(limit: bytes, hold: true))
    }

    /// What has passed connection `connection` so far (zeros for one not accepted yet).
    func passed(_ connection: Int) -> Passed { core.state.withLock { $0.links[connection]?.passed ?? Passed() } }

    /// Connections accepted so far.
    var accepted: Int { core.state.withLock { $0.accepted } }

    /// Whether connection `connection` has ended (cut, or closed by either side).
    func hasEnded(_ connection: Int) -> Bool { core.state.withLock { $0.links[connection]?.ended ?? false } }

    /// Closes the listener and every connection, and waits (at most 5 s) for the relay's threads.
    func stop() { core.stop() }

    deinit { core.stop() }

    fileprivate struct Rule {
        let limit: UInt64
        let hold: Bool
    }

    fileprivate struct Link {
        let client: Socket
        let server: Socket
        var passed = Passed()
        /// Set when the first of the two directions ended: both sockets are shut down then.
        var ended = false
        /// Directions whose thread has finished; the last one closes both sockets.
        var finished = 0
    }

    fileprivate struct State {
        var rules: [Int: [Direction: Rule]] = [:]
        var links: [Int: Link] = [:]
        var accepted = 0
        var stopped = false
    }

    /// Everything the threads share; the relay object itself is not captured by them, so that its
    /// deinit can run and stop them.
    private final class Core: Sendable {
        let listener: ListeningSocket
        let upstreamPort: Int
        let state = Mutex(State())
        let threads = DispatchGroup()

        init(listener: ListeningSocket, upstreamPort: Int) {
            self.listener = listener
            self.upstreamPort = upstreamPort
        }

        func setRule(_ connection: Int, _ direction: Direction, _ rule: Rule) {
            state.withLock { $0.rules[connection, default: [:]][direction] = rule }
        }

        func startAccepting() {
            threads.enter()
            Thread { [self] in
                acceptLoop()
                threads.leave()
            }.start()
        }

        func stop() {
            let links = state.withLock { state -> [Link] in
                state.stopped = true
                return Array(state.links.values)
            }
            for link in links {
                link.client.shutdown()
                link.server.shutdown()
            }
            _ = threads.wait(timeout: .now() + .seconds(5))
            listener.close()
        }

        private var stopped: Bool { state.withLock { $0.stopped } }

        private func acceptLoop() {
            while !stopped {
                guard ((try? Posix.poll(listener.descriptor.rawValue, events: Int16(POLLIN), timeoutMilliseconds: 100)) ?? 0) > 0,
                      let client = (try? listener.accept()) ?? nil else { continue }
                guard let server = try? Socket.connect(host: "127.0.0.1", port: upstreamPort, timeout: .seconds(5)) else {
                    client.close()
                    continue
                }
                let number = state.withLock { state -> Int? in
                    guard !state.stopped else { return nil }
                    state.accepted += 1
                    state.links[state.accepted] = Link(client: client, server: server)
                    return state.accepted
                }
                guard let number else {
                    client.close()
                    server.close()
                    return
                }
                for (direction, source, sink) in [(Direction.clientToServer, client, server), (.serverToClient, server, client)] {
                    threads.enter()
                    Thread { [self] in
                        pump(number, direction, from: source, to: sink)
                        threads.leave()
                    }.start()
                }
            }
        }

        /// Copies `source` to `sink` until either ends, an error, or this direction's rule says stop.
        private func pump(_ number: Int, _ direction: Direction, from source: Socket, to sink: Socket) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            copying: while true {
                guard let count = try? source.read(into: buffer, timeout: nil), count > 0 else { break }
                // How much of this read may pass, counted before it is written on.
                let (allowed, rule) = state.withLock { state -> (Int, Rule?) in
                    let rule = state.rules[number]?[direction]
                    let done = state.links[number]?.passed[direction] ?? 0
                    var allowed = count
                    if let rule { allowed = Int(min(UInt64(count), rule.limit - min(done, rule.limit))) }
                    state.links[number]?.passed[direction] += UInt64(allowed)
                    return (allowed, rule.flatMap { done + UInt64(allowed) >= $0.limit ? $0 : nil })
                }
                if allowed > 0 {
                    guard (try? sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<allowed]), timeout: .seconds(30))) != nil
                    else { break }
                }
                guard let rule else { continue }
                if rule.hold {
                    // Silence this way until the connection ends otherwise.
                    while !state.withLock({ $0.stopped || ($0.links[number]?.ended ?? true) }) { usleep(10_000) }
                }
                break copying
            }
            finish(number)
        }

        /// Shuts both sockets down (waking the other direction's thread); the second thread to finish
        /// closes them, so no descriptor is closed while the other thread may still use it.
        private func finish(_ number: Int) {
            let (link, last) = state.withLock { state -> (Link?, Bool) in
                state.links[number]?.ended = true
                state.links[number]?.finished += 1
                return (state.links[number], state.links[number]?.finished == 2)
            }
            guard let link else { return }
            link.client.shutdown()
            link.server.shutdown()
            if last {
                link.client.close()
                link.server.close()
            }
        }
    }
}
