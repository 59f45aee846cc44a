import FerryWire
import Foundation

/// The shell at a terminal with a ``LineEditor``: Tab completes names from the command table, the
/// remote directories this session lists (cached until the shell changes something on the server)
/// and local directories; answers to questions stay out of the history.
extension Shell {
    /// Lets `editor`, this shell's input, complete names and ask questions.
    public func attach(_ editor: LineEditor) {
        let completion = ShellCompletion(
            remoteWorkingDirectory: { [weak self] in self?.cwd ?? "/" },
            listRemote: { [weak self] directory in self?.remoteNames(in: directory) }
        )
        let earlier = onRemoteChange
        onRemoteChange = {
            earlier()
            completion.invalidate()
        }
        editor.complete = completion.complete
        confirm = { [weak editor] question in
            guard case .line(let answer)? = editor?.readLine(prompt: question + " (y/n) ", recording: false) else { return false }
            return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
        }
    }

    /// The names in the remote directory `directory` ("/"-rooted), or nil when it cannot be listed.
    /// Asked while a line is being typed, so Ctrl-C keeps going to the line, not to the session.
    func remoteNames(in directory: String) -> [ShellCompletion.Name]? {
        guard let listing = try? session().list(RemotePath.wire(directory)) else { return nil }
        return listing.entries.map { ($0.name, $0.kind == .directory) }
    }
}
