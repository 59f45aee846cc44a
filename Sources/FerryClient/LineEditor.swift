import CEdit
import FerryPosix
import Synchronization

/// The shell's command line on a terminal, edited with libedit (the editor OpenSSH's sftp uses) in
/// its emacs bindings: Left/Right, Home/End, Up/Down through the history, Ctrl-R to search it, Tab to
/// complete, Ctrl-D on an empty line to leave, Ctrl-C to drop the line.
///
/// Characters reach libedit through a reader of our own that waits on standard input and a wake pipe
/// together, so that ``interrupt()`` (from the shell's signal thread, on SIGINT) ends the read at once:
/// libedit then puts the terminal back in its normal mode and `readLine` returns `.interrupted`. While
/// libedit edits, the terminal keeps ISIG, so Ctrl-C normally arrives as SIGINT; when it arrives as a
/// character instead (an `~/.editrc` with `setty -isig`), a key function bound to it does the same.
///
/// The history is kept in a ``HistoryFile``: loaded at start, each recorded command appended at once.
///
/// Only ``interrupt()`` and ``restoreTerminal()`` may be called from other threads; everything else
/// belongs to the thread that reads lines.
public final class LineEditor: LineInput, @unchecked Sendable {
    /// Works out Tab's completion from the text before the cursor.
    public typealias Completer = (_ lineBeforeCursor: String) -> Completion

    /// Most candidates listed below the line at once.
    static let listedCandidates = 200

    private let editor: OpaquePointer
    private let history: OpaquePointer
    private let historyFile: HistoryFile?
    /// What Tab inserts and lists; it may be set after the editor is made (the shell that knows the
    /// names is made with the editor as its input).
    public var complete: Completer
    private let wake: WakePipe
    /// Set when the line being read is to be dropped (by ``interrupt()`` or the Ctrl-C key).
    private let interrupted = Atomic<Bool>(false)
    /// The terminal's settings before any editing, for ``restoreTerminal()``.
    private let savedMode: TerminalMode?
    /// The prompt as a C string, which libedit asks for while it draws.
    private var prompt: UnsafeMutableBufferPointer<CChar>
    /// The last command recorded, so that it is not recorded twice in a row.
    private var previous: String?
    /// A byte read while decoding UTF-8 that began the next character.
    private var pending: UInt8?

    public var isInteractive: Bool { true }

    /// An editor on standard input and output, which must be a terminal; nil when libedit cannot start.
    /// - Parameters:
    ///   - historyFile: where commands are loaded from and recorded; nil keeps them in memory only.
    ///   - complete: what Tab inserts and lists.
    public init?(historyFile: HistoryFile?, complete: @escaping Completer = { _ in .none }) {
        guard let wake = try? WakePipe() else { return nil }
        savedMode = TerminalMode.current(Terminal.standardInput)
        ferry_el_use_utf8()
        guard let editor = ferry_el_init("ferry") else { return nil }
        guard let history = history_init() else {
            el_end(editor)
            return nil
        }
        self.editor = editor
        self.history = history
        self.historyFile = historyFile
        self.complete = complete
        self.wake = wake
        prompt = .allocate(capacity: 1)
        prompt[0] = 0

        ferry_el_set_clientdata(editor, Unmanaged.passUnretained(self).toOpaque())
        ferry_el_set_emacs(editor)
        ferry_el_set_prompt(editor) { el in LineEditor.owner(of: el)?.prompt.baseAddress }
        ferry_el_set_getcfn(editor) { el, character in
            guard let owner = LineEditor.owner(of: el), let character else { return -1 }
            return owner.readCharacter(into: character)
        }
        _ = ferry_history_setsize(history, Int32(historyFile?.limit ?? HistoryFile.defaultLimit))
        ferry_el_set_history(editor, history)
        ferry_el_addfn(editor, "ferry-complete", "Complete a command or a file name") { el, _ in
            LineEditor.owner(of: el)?.completeAtCursor() ?? UInt8(CC_ERROR)
        }
        ferry_el_addfn(editor, "ferry-interrupt", "Drop the line (Ctrl-C)") { el, _ in
            LineEditor.owner(of: el)?.interrupted.store(true, ordering: .sequentiallyConsistent)
            return UInt8(CC_EOF)
        }
        for (key, command) in Self.bindings { ferry_el_bind(editor, key, command) }
        _ = el_source(editor, nil) // ~/.editrc, as for any libedit program; missing is fine

        for command in historyFile?.load() ?? [] {
            ferry_history_enter(history, command)
            previous = command
        }
    }

    deinit {
        el_end(editor) // puts the terminal back if it was left in edit mode
        history_end(history)
        prompt.deallocate()
    }

    /// Keys bound beyond libedit's emacs defaults, as `bind` in ~/.editrc takes them.
    static let bindings: [(key: String, command: String)] = [
        ("^I", "ferry-complete"),
        ("^C", "ferry-interrupt"),
        ("^R", "em-inc-search-prev"),
        // Home and End as terminals other than xterm send them, Delete, and Ctrl-Left/Right by words.
        ("\\e[1~", "ed-move-to-beg"), ("\\e[7~", "ed-move-to-beg"), ("\\e[H", "ed-move-to-beg"), ("\\eOH", "ed-move-to-beg"),
        ("\\e[4~", "ed-move-to-end"), ("\\e[8~", "ed-move-to-end"), ("\\e[F", "ed-move-to-end"), ("\\eOF", "ed-move-to-end"),
        ("\\e[3~", "ed-delete-next-char"),
        ("\\e[1;5D", "ed-prev-word"), ("\\e[1;5C", "em-next-word"),
    ]

    public func readLine(prompt text: String) -> LineRead {
        readLine(prompt: text, recording: true)
    }

    /// Reads one line; `recording` false keeps it out of the history (the answer to a question).
    public func readLine(prompt text: String, recording: Bool) -> LineRead {
        setPrompt(text)
        wake.drain() // a wake meant for an earlier line
        interrupted.store(false, ordering: .sequentiallyConsistent)
        pending = nil
        var count: Int32 = 0
        let line = el_gets(editor, &count)
        if interrupted.load(ordering: .sequentiallyConsistent) {
            Terminal.write("^C\n", to: Terminal.standardOutput)
            return .interrupted
        }
        // count 0: Ctrl-D on an empty line; -1: the terminal's end, or a read error.
        guard let line, count > 0 else { return .end }
        var command = String(cString: line)
        if command.hasSuffix("\n") { command.removeLast() }
        if recording { record(command) }
        return .line(command)
    }

    /// Ends the line being read: `readLine` returns `.interrupted`. Safe from any thread; it only
    /// writes a byte to a pipe.
    public func interrupt() {
        wake.wake()
    }

    /// Puts the terminal back as it was before editing began, for a process that ends in the middle of
    /// a `readLine` (a signal's handler). Safe from any thread.
    public func restoreTerminal() {
        savedMode?.restore(Terminal.standardInput)
    }

    /// Adds `command` to the history, in memory and on disk, unless ``HistoryFile/records(_:after:)`` says no.
    private func record(_ command: String) {
        guard HistoryFile.records(command, after: previous) else { return }
        ferry_history_enter(history, command)
        historyFile?.append(command)
        previous = command
    }

    private func setPrompt(_ text: String) {
        let bytes = Array(text.utf8CString)
        if bytes.count != prompt.count {
            prompt.deallocate()
            prompt = .allocate(capacity: bytes.count)
        }
        _ = prompt.initialize(from: bytes)
    }

    /// The editor whose client data is `el`.
    private static func owner(of el: OpaquePointer?) -> LineEditor? {
        guard let el, let data = ferry_el_get_clientdata(el) else { return nil }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
    }

    // MARK: reading characters

    /// What one wait for input gave.
    private enum Input {
        case byte(UInt8)
        case end
        case interrupted
    }

    /// libedit's character reader: 1 with a character, 0 at the end of input, -1 when interrupted.
    private func readCharacter(into character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        var bytes: [UInt8] = []
        while true {
            switch nextByte() {
            case .interrupted:
                return -1
            case .end:
                return 0
            case .byte(let byte):
                if !bytes.isEmpty && byte & 0xC0 != 0x80 {
                    pending = byte // a sequence cut short: it reads as U+FFFD, the new byte comes next
                } else {
                    bytes.append(byte)
                    if bytes.count < Self.sequenceLength(first: bytes[0]) { continue }
                }
                let scalar = String(decoding: bytes, as: UTF8.self).unicodeScalars.first ?? "\u{FFFD}"
                character.pointee = wchar_t(scalar.value)
                return 1
            }
        }
    }

    /// How many bytes the UTF-8 sequence starting with `first` has (1 for a byte that starts none).
    static func sequenceLength(first: UInt8) -> Int {
        switch first {
        case 0xC0...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF7: return 4
        default: return 1
        }
    }

    /// The next byte of standard input, waiting for it and for a wake at the same time.
    private func nextByte() -> Input {
        if let byte = pending {
            pending = nil
            return .byte(byte)
        }
        while true {
            if interrupted.load(ordering: .sequentiallyConsistent) { return .interrupted }
            guard let ready = try? Posix.pollReadable([Terminal.standardInput, wake.readEnd], timeoutMilliseconds: -1) else {
                return .end
            }
            if ready[1] {
                wake.drain()
                interrupted.store(true, ordering: .sequentiallyConsistent)
                return .interrupted
            }
            guard ready[0] else { continue }
            var byte: UInt8 = 0
            let count: Int?
            do {
                count = try withUnsafeMutableBytes(of: &byte) { buffer in try Posix.read(Terminal.standardInput, into: buffer) }
            } catch {
                return .end
            }
            guard let count else { continue } // nothing after all (a non-blocking descriptor)
            return count == 1 ? .byte(byte) : .end
        }
    }

    // MARK: completion

    /// Tab: inserts what the completer says and, when the word is ambiguous, lists the candidates below
    /// the line and draws the prompt and the line again under them.
    private func completeAtCursor() -> UInt8 {
        guard let info = el_line(editor)?.pointee, let buffer = info.buffer, let cursor = info.cursor else {
            return UInt8(CC_ERROR)
        }
        let before = String(decoding: UnsafeRawBufferPointer(start: buffer, count: cursor - buffer), as: UTF8.self)
        let completion = complete(before)
        if !completion.insert.isEmpty && el_insertstr(editor, completion.insert) != 0 {
            return UInt8(CC_ERROR)
        }
        guard completion.candidates.count > 1 else {
            return UInt8(completion.insert.isEmpty ? CC_REFRESH_BEEP : CC_REFRESH)
        }
        let shown = completion.candidates.prefix(Self.listedCandidates)
        var lines = CandidateColumns.lines(Array(shown), width: Terminal.width(Terminal.standardOutput) ?? 80)
        if shown.count < completion.candidates.count {
            lines.append("(\(completion.candidates.count - shown.count) more)")
        }
        Terminal.write("\n" + lines.joined(separator: "\n") + "\n", to: Terminal.standardOutput)
        ferry_el_redraw(editor) // the cursor is at the start of a fresh line: draw everything there
        return UInt8(CC_NORM)
    }
}
