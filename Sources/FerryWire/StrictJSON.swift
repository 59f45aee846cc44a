/// What Ferry refuses in JSON that Foundation's decoder would let through:
/// - an object naming the same key twice (the decoder silently keeps one, so the meaning is ambiguous);
/// - a number with a fraction or an exponent in one of the protocol's integer fields (the decoder turns
///   `12.0` and `1.2e1` into the integer 12, but the protocol writes whole numbers as integers).
///   `-0` is refused there too: it is 0 written a second way.
///   Keys a receiver does not know are not checked, so a later version may add other kinds of numbers.
///
/// It only tracks strings, numbers and nesting; anything that is not valid JSON is left for the
/// decoder to report.
enum StrictJSON {
    private struct Level {
        let isObject: Bool
        var keys: Set<String> = []
        var expectingKey: Bool
        var lastKey: String?
    }

    /// The fields the protocol decodes as integers.
    static let integerKeys: Set<String> = [
        "size", "mtime", "protocol", "chunk_size", "done", "total", "index", "first", "chunk_count", "mode",
        "files", "directories", "bytes", "quota_used", "quota", "disk_free", "disk_total",
    ]

    /// The fields whose arrays (at any depth) hold only integers: chunk ranges.
    static let integerArrayKeys: Set<String> = ["chunks", "mismatched"]

    /// A description of the first violation, or nil.
    static func violation(in bytes: [UInt8]) -> String? {
        var stack: [Level] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"):
                stack.append(Level(isObject: true, expectingKey: true))
            case UInt8(ascii: "["):
                stack.append(Level(isObject: false, expectingKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                if let last = stack.indices.last, stack[last].isObject { stack[last].expectingKey = true }
            case UInt8(ascii: "\""):
                guard let (text, end) = string(in: bytes, from: index) else { return nil }
                index = end
                if let last = stack.indices.last, stack[last].isObject, stack[last].expectingKey {
                    if !stack[last].keys.insert(text).inserted {
                        let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
                        return "duplicate key \(shown.debugDescription)"
                    }
                    stack[last].expectingKey = false
                    stack[last].lastKey = text
                }
                continue
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
                let literal = bytes[start..<index]
                // A number right under a key, or inside an array of chunk ranges under one.
                let inObject = stack.last?.isObject == true
                let owner = inObject ? stack.last?.lastKey : stack.last(where: \.isObject)?.lastKey
                guard let key = owner, (inObject ? integerKeys : integerArrayKeys).contains(key) else { continue }
                if literal.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                    return "\"\(key)\" must be a whole number without a fraction or exponent, not \(String(decoding: literal.prefix(40), as: UTF8.self))"
                }
                if literal.elementsEqual("-0".utf8) {
                    return "\"\(key)\" must be a whole number written as 0, not -0"
                }
                continue
            default:
                break
            }
            index += 1
        }
        return nil
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    /// Decodes the string starting at the quote at `start`; returns it and the index after its closing quote.
    private static func string(in bytes: [UInt8], from start: Int) -> (String, Int)? {
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        var index = start + 1
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flush()
                return (String(scalars), index + 1)
            }
            if byte != UInt8(ascii: "\\") {
                raw.append(byte)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { return nil }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): raw.append(0x08)
            case UInt8(ascii: "f"): raw.append(0x0C)
            case UInt8(ascii: "n"): raw.append(0x0A)
            case UInt8(ascii: "r"): raw.append(0x0D)
            case UInt8(ascii: "t"): raw.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4(bytes, index) else { return nil }
                index += 4
                var value = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit), index + 6 <= bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                   let low = hex4(bytes, index + 2), (0xDC00..<0xE000).contains(low) {
                    value = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
                    index += 6
                }
                flush()
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default: raw.append(escape)
            }
        }
        return nil
    }

    private static func hex4(_ bytes: [UInt8], _ at: Int) -> UInt16? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for byte in bytes[at..<at + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }
}
