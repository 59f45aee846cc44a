import FerryTransport
import FerryWire

/// `limit-rate` and `--limit-rate`: how fast the shell's gets and puts may move file data.
extension Shell {
    /// `limit-rate [RATE|off]`: the limit for every get and put from now on, or what it is.
    func limitRate(_ text: String?) throws(ClientError) {
        if let text { transferOptions.limitRate = text == "off" ? nil : try Self.rate(text, text) }
        print(transferOptions.limitRate.map { "Transfers are limited to \(ByteFormat.rate(Double($0)))." } ?? "Transfers are not limited.")
    }

    /// A rate as `--limit-rate` takes it: bytes per second, K, M or G for 1024s of them; 0 is no limit.
    /// `what` names the text in the error.
    static func rate(_ text: String, _ what: String) throws(ClientError) -> UInt64? {
        guard let rate = ByteCount.parse(text) else {
            throw ClientError("\(what): not a rate; give bytes per second, optionally with K, M or G (1024s), such as 500K")
        }
        return rate == 0 ? nil : rate
    }
}
