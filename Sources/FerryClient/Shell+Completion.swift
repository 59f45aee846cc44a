import FerryWire

/// Tab completion at the shell's prompt: names from the command table, the remote directories this
/// session lists (cached until the shell changes something on the server), and local directories.
extension Shell {
    /// Makes Tab in `editor` complete this shell's commands and file names.
    public func completeNames(in editor: LineEditor) {
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
    }

    /// The names in the remote directory `directory` ("/"-rooted), or nil when it cannot be listed.
    /// Asked while a line is being typed, so Ctrl-C keeps going to the line, not to the session.
    func remoteNames(in directory: String) -> [ShellCompletion.Name]? {
        guard let listing = try? session().list(RemotePath.wire(directory)) else { return nil }
        return listing.entries.map { ($0.name, $0.kind == .directory) }
    }
}
