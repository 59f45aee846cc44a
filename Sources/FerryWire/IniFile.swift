/// A minimal INI reader, for ferryd's config.ini and the client's config: `[section]` headers,
/// `key = value` lines, `#` and `;` comments on their own line. Keys are case-sensitive; a later
/// duplicate wins. Values are trimmed; quotes are not special.
public struct IniFile: Sendable {
    /// One `[section]` and its keys.
    public struct Section: Sendable {
        public let name: String
        public var values: [String: String]
        /// The line of the `[name]` header, counting from 1.
        public let line: Int
        /// The line each key was (last) set on, for messages about it.
        public var keyLines: [String: Int] = [:]

        /// The keys in the order of their lines.
        public var keysInFileOrder: [String] { values.keys.sorted { keyLines[$0, default: 0] < keyLines[$1, default: 0] } }
    }

    public private(set) var sections: [Section] = []

    /// A syntax error with its line number.
    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public init(parsing text: String) throws(ParseError) {
        var number = 0
        for rawLine in Self.lines(text) {
            number += 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ParseError(line: number, reason: "section header must look like [name]")
                }
                sections.append(Section(name: String(line.dropFirst().dropLast()).trimmingWhitespace(), values: [:], line: number))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(line: number, reason: "expected key = value")
            }
            guard !sections.isEmpty else {
                throw ParseError(line: number, reason: "key outside any [section]")
            }
            let key = line[..<equals].trimmingWhitespace()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            guard !key.isEmpty else { throw ParseError(line: number, reason: "empty key") }
            sections[sections.count - 1].values[key] = value
            sections[sections.count - 1].keyLines[key] = number
        }
    }

    /// Lines split at "\n", "\r\n" or "\r", so a file written on Windows reads the same.
    static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    }

    /// A yes-or-no value as both configuration files spell it: true, yes, on or 1; false, no, off or 0
    /// (in any case). Nil for anything else.
    public static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "1", "on": true
        case "false", "no", "0", "off": false
        default: nil
        }
    }

    /// The first section with this name.
    public func section(_ name: String) -> Section? { sections.first { $0.name == name } }

    /// Replaces the section `name` in `text` with `lines` (appending it when absent), keeping every other
    /// line, comment and blank as it was.
    public static func replacingSection(_ name: String, in text: String, with lines: [String]) -> String {
        var output: [Substring] = []
        var skipping = false
        var replaced = false
        // Comments and blanks met while skipping the old section may introduce the next one: they are
        // held back and kept if a section header follows them.
        var heldBack: [Substring] = []
        let block = (["[\(name)]"] + lines).map { Substring($0) }
        for line in Self.lines(text) {
            let trimmed = line.trimmingWhitespace()
            if trimmed.hasPrefix("[") {
                if trimmed == "[\(name)]" {
                    skipping = true
                    heldBack.removeAll()
                    if !replaced { output.append(contentsOf: block + [""]); replaced = true }
                    continue
                }
                if skipping {
                    while let first = heldBack.first, first.trimmingWhitespace().isEmpty { heldBack.removeFirst() }
                    output.append(contentsOf: heldBack)
                    heldBack.removeAll()
                }
                skipping = false
            }
            if !skipping {
                output.append(line)
            } else if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") {
                heldBack.append(line)
            } else {
                heldBack.removeAll()
            }
        }
        if !replaced {
            while let last = output.last, last.trimmingWhitespace().isEmpty { output.removeLast() }
            output.append("")
            output.append(contentsOf: block)
        }
        var result = output.joined(separator: "\n")
        if !result.hasSuffix("\n") { result += "\n" }
        return result
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let text = String(self)
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
              let last = text.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(text[first...last])
    }
}
