import FerryPosix

extension Socket {
    /// Reads and drops what the peer sends until it has said nothing for `quiet`, for at most `within`
    /// and `limit` bytes: done before a refusal in clear that answers the peer's first bytes. The answer
    /// then reaches a peer that waits for it, rather than one still in the middle of sending its
    /// ClientHello (whose TLS library would read the frame as a broken record), and the close after it
    /// sends a FIN, not the reset that unread bytes would cause (which may destroy the answer in flight).
    func discardFirstFlight(quiet: Duration = .milliseconds(100), within: Duration = .seconds(1), limit: Int = 64 << 10) {
        let deadline = ContinuousClock.now + within
        var buffer = [UInt8](repeating: 0, count: 4096)
        var discarded = 0
        while discarded < limit {
            let wait = min(quiet, deadline - .now)
            guard wait > .zero else { return }
            let count = buffer.withUnsafeMutableBytes { (try? read(into: $0, timeout: wait)) ?? 0 }
            guard count > 0 else { return }
            discarded += count
        }
    }
}
