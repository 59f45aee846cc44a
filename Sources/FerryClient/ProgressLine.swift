import FerryPosix

/// Draws a transfer's progress on standard error: one line redrawn in place at most ten times a second
/// with name, bar, percent, bytes, rate and ETA, then one summary line. When standard error is not a
/// terminal only the summary is printed, with no carriage returns or escape codes.
public final class ProgressLine: TransferProgress {
    private let interactive: Bool
    private let fd: Int32
    private var name = ""
    private var total: UInt64 = 0
    private var phase = ""
    private var started = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var samples: [(time: ContinuousClock.Instant, bytes: UInt64)] = []
    private var drawn = false

    /// Redraws at most this often.
    static let interval: Duration = .milliseconds(100)
    /// The rate is averaged over this window, so it follows changes without jittering.
    static let rateWindow: Duration = .seconds(3)

    public init(fd: Int32 = Terminal.standardError) {
        self.fd = fd
        interactive = Terminal.isTerminal(fd)
    }

    public func begin(name: String, total: UInt64, phase: String) {
        begin(name: name, total: total, phase: phase, already: 0)
    }

    public func begin(name: String, total: UInt64, phase: String, already: UInt64) {
        self.name = name
        self.total = total
        self.phase = phase
        started = .now
        samples = [(started, already)]
        lastDraw = nil
        update(done: already)
    }

    public func update(done: UInt64) {
        guard interactive else { return }
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < Self.interval, done < total { return }
        lastDraw = now
        samples.append((now, done))
        while samples.count > 2, now - samples[1].time > Self.rateWindow { samples.removeFirst() }
        let width = Terminal.width(fd) ?? 80
        Terminal.write("\r" + Self.render(
            name: name, phase: phase, done: done, total: total, rate: rate(), width: width
        ) + "\u{1B}[K", to: fd)
        drawn = true
    }

    public func finish(name: String, bytes: UInt64, seconds: Double) {
        finish(name: name, bytes: bytes, seconds: seconds, check: "MD5 verified")
    }

    public func finish(name: String, bytes: UInt64, seconds: Double, check: String) {
        let line = Self.summary(name: name, bytes: bytes, seconds: seconds, check: check)
        Terminal.write((drawn ? "\r\u{1B}[K" : "") + line + "\n", to: fd)
        drawn = false
    }

    public func relabel(_ name: String) { self.name = name }

    public func abandon() {
        if drawn { Terminal.write("\r\u{1B}[K", to: fd) }
        drawn = false
    }

    private func rate() -> Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return .nan }
        let elapsed = last.time - first.time
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(last.bytes - first.bytes) / seconds
    }

    /// One progress line, at most `width` columns:
    /// `name  [=====>    ]  45%  28.8 MiB / 64.0 MiB  112.3 MiB/s  ETA 0:01`.
    public static func render(name: String, phase: String, done: UInt64, total: UInt64, rate: Double, width: Int) -> String {
        let fraction = total == 0 ? 1.0 : min(1.0, Double(done) / Double(total))
        let percent = "\(Int(fraction * 100))%"
        let eta = rate > 0 && rate.isFinite ? ByteFormat.duration(Double(total - min(done, total)) / rate) : "--:--"
        let tail = "  \(pad(percent, 4))  \(ByteFormat.size(done)) / \(ByteFormat.size(total))  \(ByteFormat.rate(rate))  ETA \(eta)"
        let label = phase == "receiving" || phase == "sending" ? name : "\(name) (\(phase))"
        let barWidth = max(10, min(30, width - tail.count - 24))
        let filled = Int(fraction * Double(barWidth))
        let bar = "[" + String(repeating: "=", count: filled)
            + (filled < barWidth ? ">" + String(repeating: " ", count: barWidth - filled - 1) : "") + "]"
        let room = max(8, width - tail.count - bar.count - 3)
        return clip(label, room) + "  " + bar + tail
    }

    /// The closing line: `name  64.0 MiB in 0.42 s (152.4 MiB/s), MD5 verified`.
    public static func summary(name: String, bytes: UInt64, seconds: Double, check: String = "MD5 verified") -> String {
        let rate = seconds > 0 ? Double(bytes) / seconds : .nan
        return "\(name)  \(ByteFormat.size(bytes)) in \(ByteFormat.seconds(seconds)) (\(ByteFormat.rate(rate))), \(check)"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private static func clip(_ text: String, _ width: Int) -> String {
        text.count <= width ? text + String(repeating: " ", count: width - text.count) : String(text.prefix(width - 1)) + "…"
    }
}
