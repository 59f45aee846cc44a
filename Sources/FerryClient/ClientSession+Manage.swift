import FerryWire

extension ClientSession {
    /// Whether the server's hello lists `feature` (e.g. `Hello.manageFeature`).
    public func offers(_ feature: String) -> Bool { hello.offers(feature) }

    /// Removes the remote directory `path`, which must be empty (feature `manage`). The hidden files of
    /// interrupted uploads in it go with it.
    public func removeDirectory(_ path: String) throws(ClientError) {
        try requireManage("rmdir")
        let message = try request(.rmdir(PathRequest(path: path)))
        guard case .removed = message else { throw unexpected(message) }
    }

    /// Removes the remote file, symlink or special file `path`; with `recursive`, also a directory and
    /// everything below it (feature `manage`). Symlinks are removed themselves, never followed.
    public func remove(_ path: String, recursive: Bool) throws(ClientError) -> Removed {
        try requireManage("rm")
        let message = try request(.rm(RemoveRequest(path: path, recursive: recursive ? true : nil)))
        guard case .removed(let removed) = message else { throw unexpected(message) }
        return removed
    }

    /// Renames `from` to `to` on the server, atomically (feature `manage`); an existing `to` is replaced
    /// only with `replace`. Returns the entry under its new name.
    public func rename(_ from: String, to: String, replace: Bool) throws(ClientError) -> Entry {
        try requireManage("rename")
        let message = try request(.rename(RenameRequest(from: from, to: to, replace: replace ? true : nil)))
        guard case .entry(let reply) = message else { throw unexpected(message) }
        return reply.entry
    }

    /// The user's quota and its use, and the space on the server's disk (feature `manage`).
    public func usage() throws(ClientError) -> Usage {
        try requireManage("df")
        let message = try request(.df)
        guard case .usage(let usage) = message else { throw unexpected(message) }
        return usage
    }

    /// Refuses, without sending anything, a command of feature `manage` to a server that does not offer it.
    private func requireManage(_ command: String) throws(ClientError) {
        guard offers(Hello.manageFeature) else {
            throw ClientError("the server does not offer \(command) (an older ferryd)", code: .unsupported)
        }
    }
}
