/// A command's words split into options and operands by its ``ShellCommandSpec``, as getopt would:
/// `-rp` is `-r -p`, `--` ends the options, and an unknown option is an error naming it.
struct ShellArguments {
    private(set) var options: Set<String> = []
    private(set) var operands: [String] = []

    init(_ words: [String], for spec: ShellCommandSpec) throws(ClientError) {
        var optionsEnded = false
        for word in words {
            if optionsEnded || !word.hasPrefix("-") || word == "-" {
                operands.append(word)
            } else if word == "--" {
                optionsEnded = true
            } else if word.hasPrefix("--") {
                let name = String(word.dropFirst(2))
                guard let option = spec.options.first(where: { $0.long == name }) else {
                    throw ClientError("\(spec.name): unknown option \(word); usage: \(spec.usage)")
                }
                options.insert(option.key)
            } else {
                for letter in word.dropFirst() {
                    guard let option = spec.options.first(where: { $0.letter == letter }) else {
                        throw ClientError("\(spec.name): unknown option -\(letter); usage: \(spec.usage)")
                    }
                    options.insert(option.key)
                }
            }
        }
        guard spec.operands.contains(operands.count) else {
            throw ClientError("usage: \(spec.usage)")
        }
    }

    /// Whether the option with this long name (or letter, when it has none) was given.
    func has(_ key: String) -> Bool { options.contains(key) }
}
