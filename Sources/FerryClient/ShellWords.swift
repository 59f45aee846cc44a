/// Splits one shell line into words the way a POSIX shell would for simple cases: whitespace separates,
/// single quotes keep everything, double quotes keep all but `\"` and `\\`, and a backslash outside
/// quotes escapes the next character. So `get "报告 final (1).txt"` and `get 报告\ final\ (1).txt` agree.
public enum ShellWords {
    /// A quote left open at the end of the line.
    public struct UnterminatedQuote: Error, CustomStringConvertible {
        public var description: String { "unterminated quote" }
    }

    public static func split(_ line: String) throws(UnterminatedQuote) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" { closed = true; break }
                    current.append(next)
                }
                if !closed { throw UnterminatedQuote() }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\", let escaped = iterator.next() {
                        if escaped != "\"" && escaped != "\\" { current.append("\\") }
                        current.append(escaped)
                        continue
                    }
                    current.append(next)
                }
                if !closed { throw UnterminatedQuote() }
            case "\\":
                inWord = true
                if let escaped = iterator.next() { current.append(escaped) }
            case _ where character.isWhitespace:
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
