/// Text from clients or the disk (file names, user names, messages) made safe to write into a log.
///
/// A file name may hold a newline, an escape sequence, a C1 control such as U+0085 (NEL, a line break
/// to some log readers) or U+009B (CSI, an escape to some terminals), or a bidi override (U+202E) that
/// makes a reader see text in another order: any of these could forge or hide a log line. Each such
/// scalar is written as an escape instead, and so is the backslash, so that an escape in the log always
/// means an escaped scalar.
public enum LogText {
    /// True for the scalars no log line may carry raw: C0 and C1 controls, DEL, the line and paragraph
    /// separators, and the bidirectional formatting characters.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` with every unsafe scalar written as `\u{XX}` and every backslash as `\\`, for plain-text logs.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0) || $0 == "\\" }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar == "\\" {
                result += "\\\\"
            } else if isUnsafe(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A JSON text with every unsafe scalar that JSON allows raw (DEL, C1, the separators, bidi) written
    /// as JSON's own `\uXXXX`, which any JSON reader decodes back to the same string. C0 controls are
    /// escaped by JSON itself already.
    public static func jsonEscaped(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: isUnsafe) else { return json }
        var result = ""
        for scalar in json.unicodeScalars {
            if isUnsafe(scalar) {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
