/// Sizes and rates as people write them: a whole number of bytes, optionally followed by K, M, G or T
/// (powers of 1024, either case): `quota = 10G`, `rate_limit = 2M`, `--limit-rate 512K`.
public enum ByteCount {
    private static let units: [(suffix: Character, factor: UInt64)] = [("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]

    /// The bytes `text` stands for, or nil when it is not a size (or is past Int64.max bytes).
    public static func parse(_ text: String) -> UInt64? {
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        if let last = digits.last?.uppercased().first, let unit = units.first(where: { $0.suffix == last }) {
            multiplier = unit.factor
            digits = digits.dropLast()
        }
        guard let value = UInt64(digits), case let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier),
              !overflow, bytes <= UInt64(Int64.max) else { return nil }
        return bytes
    }

    /// `bytes` in the largest unit that divides it exactly ("10G", "1536K", "1000"): what ``parse(_:)``
    /// reads back as the same number.
    public static func text(_ bytes: UInt64) -> String {
        guard bytes > 0, let unit = units.first(where: { bytes % $0.factor == 0 }) else { return "\(bytes)" }
        return "\(bytes / unit.factor)\(unit.suffix)"
    }
}
