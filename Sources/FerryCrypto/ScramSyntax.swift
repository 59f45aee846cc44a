/// Pieces of the RFC 5802 message grammar shared by the client and the server.
enum ScramSyntax {
    /// Encodes a user name as a saslname: '=' becomes "=3D" and ',' becomes "=2C".
    static func escape(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count)
        for ch in name.unicodeScalars {
            switch ch {
            case "=": out += "=3D"
            case ",": out += "=2C"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Decodes a saslname; nil if it contains ',' or an '=' not followed by exactly "3D" or "2C".
    static func unescape(_ saslname: Substring) -> String? {
        let scalars = Array(saslname.unicodeScalars)
        var out = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let ch = scalars[index]
            switch ch {
            case ",":
                return nil
            case "=":
                guard index + 2 < scalars.count else { return nil }
                let code = String(String.UnicodeScalarView(scalars[(index + 1)..<(index + 3)]))
                switch code {
                case "3D": out.append("=")
                case "2C": out.append(",")
                default: return nil
                }
                index += 3
            default:
                out.append(ch)
                index += 1
            }
        }
        return String(out)
    }

    /// True for a valid nonce: non-empty, printable ASCII (0x21...0x7E) except ','.
    static func isValidNonce(_ nonce: some StringProtocol) -> Bool {
        !nonce.isEmpty && nonce.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7e && $0 != UInt8(ascii: ",") }
    }

    /// Splits a message into its comma-separated fields, keeping empty ones.
    static func fields(_ message: String) -> [Substring] {
        message.split(separator: ",", omittingEmptySubsequences: false)
    }

    /// The value of `field` if it is "<name>=<value>", else nil.
    static func value(of field: Substring, named name: Character) -> Substring? {
        guard field.count >= 2, field.first == name,
              field[field.index(after: field.startIndex)] == "="
        else { return nil }
        return field.dropFirst(2)
    }

    /// True if `field` looks like an attribute ("x=..." with x a letter), as extensions must.
    static func isAttribute(_ field: Substring) -> Bool {
        guard field.count >= 2, let first = field.first, first.isASCII, first.isLetter else { return false }
        return field[field.index(after: field.startIndex)] == "="
    }

    /// Byte-wise XOR of two equal-length arrays.
    static func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        precondition(a.count == b.count)
        return zip(a, b).map { $0 ^ $1 }
    }
}
