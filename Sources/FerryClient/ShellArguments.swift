/// A command's words split into options and operands by its ``ShellCommandSpec``, as getopt would:
/// `-rp` is `-r -p`, `--` ends the options, a long option with a value takes it as `--name VALUE` or
/// `--name=VALUE`, and an unknown option is an error naming it.
struct ShellArguments {
    private(set) var options: Set<String> = []
    private(set) var operands: [String] = []
    private(set) var values: [String: String] = [:]

    init(_ words: [String], for spec: ShellCommandSpec) throws(ClientError) {
        var optionsEnded = false
        var rest = words[...]
        while let word = rest.popFirst() {
            if optionsEnded || !word.hasPrefix("-") || word == "-" {
                operands.append(word)
            } else if word == "--" {
                optionsEnded = true
            } else if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let equals = body.firstIndex(of: "=")
                let name = String(body[..<(equals ?? body.endIndex)])
                let inline = equals.map { String(body[body.index(after: $0)...]) }
                guard let option = spec.options.first(where: { $0.long == name }), (inline == nil || option.value != nil) else {
                    throw ClientError("\(spec.name): unknown option \(word); usage: \(spec.usage)")
                }
                if let value = option.value {
                    guard let given = inline ?? rest.popFirst() else {
                        throw ClientError("\(spec.name): --\(name) needs a value (\(value))")
                    }
                    values[option.key] = given
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

    /// The value given with the option of this long name, the last one if it was given twice.
    func value(_ key: String) -> String? { values[key] }
}

