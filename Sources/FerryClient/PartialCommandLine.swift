/// The text before the cursor split into words by the rules of ``ShellWords``, where the last word may
/// still be open: being typed, perhaps inside a quote. What Tab completion starts from.
struct PartialCommandLine: Equatable {
    /// The finished words before the one being typed, unquoted and unescaped.
    var words: [String]
    /// The word being typed (empty when the text ends in white space), unquoted and unescaped.
    var current: String
    /// The quote left open in the word being typed, if any: `"` or `'`.
    var openQuote: Character?

    init(words: [String], current: String, openQuote: Character? = nil) {
        self.words = words
        self.current = current
        self.openQuote = openQuote
    }

    init(_ text: String) {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                // Inside double quotes a backslash escapes only `"` and `\`; elsewhere any character.
                if quote == "\"" && character != "\"" && character != "\\" { current.append("\\") }
                current.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case (.some("'"), "'"), (.some("\""), "\""):
                quote = nil
            case (.some("'"), _):
                current.append(character)
            case (.some("\""), "\\"), (nil, "\\"):
                escaped = true
                inWord = true
            case (.some("\""), _):
                current.append(character)
            case (nil, "'"), (nil, "\""):
                quote = character
                inWord = true
            case (nil, _) where character.isWhitespace:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        self.init(words: words, current: current, openQuote: quote)
    }
}
