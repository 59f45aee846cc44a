/// The one wording for every way a connection can fail to come up in time.
extension ClientError {
    /// "could not connect to HOST:PORT within N s", then `detail` (what was missing) when given: for a
    /// TCP connect that got no answer, and for a server that took the connection but never greeted
    /// (a listener that does not accept, a stopped process, not a ferryd).
    static func connectTimedOut(_ server: String, within limit: Duration, _ detail: String? = nil) -> ClientError {
        ClientError("could not connect to \(server) within \(wholeOrFraction(limit)) s" + (detail.map { ": \($0)" } ?? ""))
    }

    /// "10", "0.5", "2.25": seconds without trailing zeros.
    static func wholeOrFraction(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard attoseconds != 0 else { return "\(seconds)" }
        var text = ByteFormat.fixed(Double(seconds) + Double(attoseconds) / 1e18, digits: 2)
        while text.hasSuffix("0") { text.removeLast() }
        return text.hasSuffix(".") ? String(text.dropLast()) : text
    }
}
