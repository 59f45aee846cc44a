import FerryPosix
import FerryWire
import Foundation

/// `ferry ping`: status probes sent one per interval, as ping(8) sends echo requests; a line per reply
/// (its round trip and the server's status) or per probe left unanswered, then a summary.
public struct Ping: Sendable {
    /// Probes to send.
    public var count: Int
    /// From the start of one probe to the start of the next (longer when a reply takes longer).
    public var interval: Duration
    /// How long to wait for each reply.
    public var timeout: Duration

    public init(count: Int, interval: Duration, timeout: Duration) {
        self.count = count
        self.interval = interval
        self.timeout = timeout
    }

    /// Probes `client`'s server, writing each line to `output` as it comes; the summary line is the last.
    public func run(_ client: StatusProbeClient, output: (String) -> Void) throws(ClientError) -> PingStatistics {
        var statistics = PingStatistics()
        for sequence in 1...max(1, count) {
            let started = ContinuousClock.now
            statistics.sent += 1
            if let reply = try client.probe(timeout: timeout) {
                statistics.roundTrips.append(reply.roundTrip)
                output(Self.replyLine(from: client.server, sequence: sequence, reply: reply))
            } else {
                output(Self.noReplyLine(from: client.server, sequence: sequence, timeout: timeout))
            }
            let pause = interval - (ContinuousClock.now - started)
            if pause > .zero, sequence != count { Thread.sleep(forTimeInterval: Self.seconds(pause)) }
        }
        output("--- \(client.server) ferry ping statistics ---")
        output(statistics.summary)
        return statistics
    }

    /// "reply from 127.0.0.1:8912: seq=1 time=0.21 ms ferryd 0.1.0 protocol 2 up 1h02m sessions 3 transfers 1 accepting"
    static func replyLine(from server: SocketAddress, sequence: Int, reply: StatusProbeClient.Reply) -> String {
        let status = reply.status
        let protocols = status.protocols.map(String.init).joined(separator: ",")
        var line = "reply from \(server): seq=\(sequence) time=\(milliseconds(reply.roundTrip)) ms"
        line += " \(status.server.replacingOccurrences(of: "/", with: " "))"
        line += " protocol\(status.protocols.count == 1 ? "" : "s") \(protocols) up \(uptime(status.uptime))"
        line += " sessions \(status.sessions) transfers \(status.transfers) \(status.accepting ? "accepting" : "not accepting")"
        if status.malformed > 0 { line += " (\(status.malformed) malformed probes dropped)" }
        return line
    }

    /// "no reply from 127.0.0.1:8912 within 1 s (seq=1)"
    static func noReplyLine(from server: SocketAddress, sequence: Int, timeout: Duration) -> String {
        "no reply from \(server) within \(wholeOrDecimal(seconds(timeout))) s (seq=\(sequence))"
    }

    /// "1", "0.5", "2.25": at most two decimals, none when they are zeros.
    static func wholeOrDecimal(_ value: Double) -> String {
        var text = ByteFormat.fixed(value, digits: 2)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// "42s", "5m03s", "1h02m", "3d04h".
    static func uptime(_ seconds: UInt64) -> String {
        let twoDigits = { (value: UInt64) in value < 10 ? "0\(value)" : "\(value)" }
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m\(twoDigits(seconds % 60))s"
        case ..<86_400: return "\(seconds / 3600)h\(twoDigits(seconds / 60 % 60))m"
        default: return "\(seconds / 86_400)d\(twoDigits(seconds / 3600 % 24))h"
        }
    }

    /// A round trip in milliseconds with two decimals: "0.21".
    static func milliseconds(_ duration: Duration) -> String {
        ByteFormat.fixed(seconds(duration) * 1000, digits: 2)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// What one `ferry ping` run saw.
public struct PingStatistics: Sendable, Equatable {
    public var sent = 0
    /// The round trip of every reply, in order.
    public var roundTrips: [Duration] = []

    public var received: Int { roundTrips.count }

    /// "3 sent, 3 received, 0% loss, round trip min/avg/max 0.18/0.21/0.25 ms"
    public var summary: String {
        let loss = sent == 0 ? 0 : (sent - received) * 100 / sent
        var line = "\(sent) sent, \(received) received, \(loss)% loss"
        if let minimum = roundTrips.min(), let maximum = roundTrips.max() {
            let average = roundTrips.reduce(Duration.zero, +) / received
            line += ", round trip min/avg/max " + [minimum, average, maximum].map(Ping.milliseconds).joined(separator: "/") + " ms"
        }
        return line
    }
}
