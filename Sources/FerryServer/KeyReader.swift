import FerryWire
import Foundation

/// Reads typed values out of one config.ini section, remembering which keys were used so that a
/// misspelt key is an error. Every error names the file and the line of the key (or of the section's
/// header, for a key that is missing).
struct KeyReader {
    let section: IniFile.Section
    let file: String
    private var used: Set<String> = []

    init(_ section: IniFile.Section, file: String) {
        self.section = section
        self.file = file
    }

    mutating func string(_ key: String) -> String? {
        used.insert(key)
        return section.values[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigFile.Invalid) -> Int? {
        guard let text = string(key) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw invalid(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    mutating func duration(_ key: String) throws(ConfigFile.Invalid) -> Duration? {
        guard let text = string(key) else { return nil }
        guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 * 365 else {
            throw invalid(key, "must be a number of seconds")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A size in bytes: a whole number, optionally followed by K, M, G or T (powers of 1024).
    mutating func byteCount(_ key: String) throws(ConfigFile.Invalid) -> UInt64? {
        guard let text = string(key) else { return nil }
        guard let bytes = ByteCount.parse(text) else {
            throw invalid(key, "must be a number of bytes, optionally with K, M, G or T (such as 10G)")
        }
        return bytes
    }

    /// A rate in bytes per second, written as ``byteCount(_:)``; 0 (or no key) is no limit: nil.
    mutating func byteRate(_ key: String) throws(ConfigFile.Invalid) -> UInt64? {
        guard let rate = try byteCount(key) else { return nil }
        return rate == 0 ? nil : rate
    }

    mutating func boolean(_ key: String) throws(ConfigFile.Invalid) -> Bool? {
        guard let text = string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw invalid(key, "must be true or false")
        }
    }

    mutating func base64(_ key: String, length: Int? = nil) throws(ConfigFile.Invalid) -> [UInt8] {
        guard let text = string(key) else { throw invalid(key, "is missing") }
        guard let data = Data(base64Encoded: text), !data.isEmpty, length == nil || data.count == length else {
            throw invalid(key, "must be base64\(length.map { " of \($0) bytes" } ?? "")")
        }
        return Array(data)
    }

    /// A comma-separated list of IP addresses and CIDR ranges (`10.0.0.0/8, 2001:db8::7`); empty or
    /// absent: none.
    mutating func addressRanges(_ key: String) throws(ConfigFile.Invalid) -> [AddressRange]? {
        guard let text = string(key) else { return nil }
        var ranges: [AddressRange] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = item.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { throw invalid(key, "has an empty entry (a comma too many)") }
            do { ranges.append(try AddressRange(parsing: entry)) } catch {
                throw invalid(key, "entry \(error)")
            }
        }
        return ranges
    }

    func rejectUnknown() throws(ConfigFile.Invalid) {
        if let unknown = section.values.keys.sorted(by: { line(of: $0) < line(of: $1) }).first(where: { !used.contains($0) }) {
            throw ConfigFile.Invalid(file: file, line: line(of: unknown), reason: "[\(section.name)]: unknown key \"\(unknown)\"")
        }
    }

    /// The line `key` is set on, or the section's header line when it is not set.
    private func line(of key: String) -> Int { section.keyLines[key] ?? section.line }

    private func invalid(_ key: String, _ why: String) -> ConfigFile.Invalid {
        ConfigFile.Invalid(file: file, line: line(of: key), reason: "[\(section.name)] \(key) \(why)")
    }
}
