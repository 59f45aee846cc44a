/// Human-readable sizes, rates and durations for the terminal.
public enum ByteFormat {
    /// "0 B", "512 B", "1.5 KiB", "64.0 MiB", "1.00 GiB".
    public static func size(_ bytes: UInt64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(fixed(value, digits: value < 10 ? 2 : 1)) \(units[unit])"
    }

    /// A rate in bytes per second, "112.3 MiB/s".
    public static func rate(_ bytesPerSecond: Double) -> String {
        guard bytesPerSecond.isFinite, bytesPerSecond >= 0 else { return "-- B/s" }
        return size(UInt64(bytesPerSecond)) + "/s"
    }

    /// "0:07", "12:34", "1:02:03"; "--:--" when unknown.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 360_000 else { return "--:--" }
        let total = Int(seconds.rounded(.up))
        let hours = total / 3600, minutes = total / 60 % 60, secs = total % 60
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" : "\(minutes):\(twoDigits(secs))"
    }

    /// Seconds with one or two decimals: "0.42 s", "12.3 s".
    public static func seconds(_ value: Double) -> String {
        "\(fixed(value, digits: value < 10 ? 2 : 1)) s"
    }

    static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        var fraction = String(scaled % Int(scale))
        while fraction.count < digits { fraction = "0" + fraction }
        return digits == 0 ? "\(whole)" : "\(whole).\(fraction)"
    }
}
