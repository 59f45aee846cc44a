import FerryPosix
import FerryWire

extension Session {
    /// `rmdir` (feature `manage`): removes a directory that holds nothing a client can see; the hidden
    /// files of interrupted uploads in it go with it, unless an upload is writing one (`busy`). Answers
    /// with `removed`.
    func removeDirectory(_ request: PathRequest, root: ShareRoot) throws {
        _ = try writingUser()
        let location = try removable(request.path, root: root)
        let status = try existingEntry(location)
        guard status.kind == .directory else {
            throw ErrorReply(.notDirectory, "\(location.path) is \(status.kind == .symlink ? "a symlink" : "not a directory"); rmdir removes only directories")
        }
        try removing(location, root: root, command: "rmdir") { removal throws(ErrorReply) in
            try removal.removeEmptyDirectory(location.name, in: location.parent)
        }
    }

    /// `rm` (feature `manage`): removes a file, a symlink (never its target) or a special file; with
    /// `recursive`, also a directory and everything below it, without following any symlink. Answers
    /// with `removed`.
    func remove(_ request: RemoveRequest, root: ShareRoot) throws {
        _ = try writingUser()
        let location = try removable(request.path, root: root)
        let status = try existingEntry(location)
        try removing(location, root: root, command: request.recursive == true ? "rm -r" : "rm") { removal throws(ErrorReply) in
            guard status.kind == .directory else {
                return try removal.removeEntry(location.name, in: location.parent, status: status)
            }
            guard request.recursive == true else {
                throw ErrorReply(.isDirectory, "\(location.path) is a directory; rm removes one only with recursive (or rmdir, when it is empty)")
            }
            try removal.removeTree(location.name, in: location.parent)
        }
    }

    /// Where the entry to remove is: never the root; directories on the way followed when they stay
    /// inside the root, the last component never (a symlink there is the entry itself).
    private func removable(_ raw: String, root: ShareRoot) throws(ErrorReply) -> ShareRoot.Location {
        let path = try SharePath(parsing: raw)
        guard !path.isRoot else { throw ErrorReply(.permissionDenied, "the root cannot be removed") }
        return try root.locate(path, followFinal: false)
    }

    /// Runs a removal, gives what it freed back to the quota (also when it stopped part-way), logs it
    /// and answers with what was removed.
    private func removing(_ location: ShareRoot.Location, root: ShareRoot, command: String,
                          _ body: (Removal) throws(ErrorReply) -> Void) throws {
        let removal = Removal(path: location.path) { [server] status in server.forgetDigests(of: status) }
        defer {
            server.quotas.recordRemoval(in: root, bytes: removal.freed)
            let removed = removal.removed
            if removed.files + removed.directories > 0 {
                logger.info("\(command) \(location.path): \(removed.files) files, \(removed.directories) directories, \(removed.bytes) bytes")
            }
        }
        try body(removal)
        try reply(.removed(removal.removed))
    }
}
