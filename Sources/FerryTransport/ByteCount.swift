/// Sizes and rates as people write them: a whole number of bytes, optionally followed by K, M, G or T
/// (either case) for 1024, 1024², 1024³ or 1024⁴ of them: `quota = 10G`, `rate_limit = 2M`,
/// `--limit-rate 512K`.
public enum ByteCount {
    /// The number of bytes `text` says, or nil when it is not such a number or exceeds Int64.max.
    public static func parse(_ text: String) -> UInt64? {
        let multipliers: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        if let last = digits.last?.uppercased().first, let factor = multipliers[last] {
            multiplier = factor
            digits = digits.dropLast()
        }
        guard let value = UInt64(digits), case let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier),
              !overflow, bytes <= UInt64(Int64.max) else { return nil }
        return bytes
    }
}
