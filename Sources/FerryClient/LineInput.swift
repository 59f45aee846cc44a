import FerryPosix

/// What one read of a command line gave the shell.
public enum LineRead: Equatable, Sendable {
    /// A whole line, without its newline.
    case line(String)
    /// Ctrl-C: the line being typed is dropped; the shell prompts again.
    case interrupted
    /// End of input (Ctrl-D on an empty line, or the end of a batch file).
    case end
}

/// Where the shell's command lines come from: a line editor on a terminal, or plain lines from a pipe
/// or a batch file.
public protocol LineInput: AnyObject {
    /// Shows `prompt` (when the source is interactive) and reads one line.
    func readLine(prompt: String) -> LineRead
    /// Called from the signal thread on SIGINT while a line is being read: `readLine` returns
    /// `.interrupted` as soon as it can.
    func interrupt()
    /// Whether a person is typing (prompts, confirmations and errors that do not end the run).
    var isInteractive: Bool { get }
}

/// Lines read one by one from a descriptor, with no editing: standard input when it is not a terminal,
/// or the file of `ferry shell -b FILE`.
public final class PlainLineInput: LineInput {
    private let reader: LineReader
    public let isInteractive: Bool

    /// Reads from `descriptor`; `interactive` prints prompts (a terminal with no line editor).
    public init(descriptor: Int32, interactive: Bool) {
        reader = LineReader(descriptor: descriptor)
        isInteractive = interactive
    }

    public func readLine(prompt: String) -> LineRead {
        if isInteractive { Terminal.write(prompt, to: Terminal.standardOutput) }
        guard let line = reader.next() else { return .end }
        return .line(line)
    }

    public func interrupt() {}
}

/// Splits what a descriptor delivers into lines, reading in blocks (a `\r\n` ending loses its `\r`).
final class LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var finished = false

    init(descriptor: Int32) { self.descriptor = descriptor }

    func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if finished {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            var block = [UInt8](repeating: 0, count: 4096)
            let count = block.withUnsafeMutableBytes { try? Posix.read(descriptor, into: $0) }
            if let count, count > 0 { buffer.append(contentsOf: block[..<count]) } else { finished = true }
        }
    }
}
