/// The little of XML that S3's answers need: the text of named elements, in order. S3 answers are
/// flat, machine-written documents without attributes on the elements read here, CDATA or comments.
enum S3XML {
    /// The raw contents of every `<tag>...</tag>` in `text`, in order.
    static func elements(_ tag: String, in text: Substring) -> [Substring] {
        let open = "<\(tag)>", close = "</\(tag)>"
        var found: [Substring] = []
        var rest = text
        while let start = rest.firstRange(of: open) {
            guard let end = rest[start.upperBound...].firstRange(of: close) else { break }
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<tag>` in `text`, nil when there is none.
    static func value(_ tag: String, in text: Substring) -> String? {
        elements(tag, in: text).first.map(unescape)
    }

    /// The decoded text of every `<tag>` in `text`.
    static func values(_ tag: String, in text: Substring) -> [String] {
        elements(tag, in: text).map(unescape)
    }

    /// Replaces XML's character references with the characters.
    static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var result = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { break }
            let name = rest[rest.index(after: amp)..<semicolon]
            switch name {
            case "amp": result += "&"
            case "lt": result += "<"
            case "gt": result += ">"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                let number = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16) : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
                if let number, let scalar = Unicode.Scalar(number) { result.unicodeScalars.append(scalar) } else { result += "&\(name);" }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    /// `text` with the characters XML reserves escaped, for a request body.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
