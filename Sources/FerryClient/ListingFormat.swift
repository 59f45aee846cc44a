import Foundation
import FerryWire

/// Formats `ls` output: one line per entry with kind, size, modification time and name, directories
/// marked with a trailing "/", sorted by name. With `hashes`, a column of short content hashes (the
/// first 12 hex digits; "-" where the server has not computed one yet).
public enum ListingFormat {
    public static func lines(_ entries: [Entry], hashes: Bool = false) -> [String] {
        let sorted = entries.sorted { $0.name.localizedStandardCompare($1.name) == .orderedAscending }
        let sizeWidth = sorted.map { String($0.size).count }.max() ?? 1
        return sorted.map { entry in
            let kind = switch entry.kind {
            case .directory: "d"
            case .symlink: "l"
            case .file: "-"
            case .other: "?"
            }
            let size = String(entry.size)
            let padded = String(repeating: " ", count: sizeWidth - size.count) + size
            let suffix = entry.kind == .directory ? "/" : (entry.kind == .symlink ? "@" : "")
            let hash = hashes ? (entry.contentHash.map { String($0.prefix(12)) } ?? (entry.kind == .file ? "-" : "")) : nil
            let hashColumn = hash.map { $0 + String(repeating: " ", count: 12 - $0.count) + "  " } ?? ""
            return "\(kind) \(padded)  \(timestamp(entry.mtime))  \(hashColumn)\(entry.name)\(suffix)"
        }
    }

    /// "2026-11-22 14:05" in UTC: the same on every machine, which is what a listing should be.
    static func timestamp(_ seconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        let calendar = Calendar(identifier: .gregorian)
        var utc = calendar
        utc.timeZone = TimeZone(identifier: "UTC")!
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ value: Int?) -> String { let v = value ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.year ?? 1970)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute))"
    }
}
