import FerryPosix
import FerryTransport
import FerryWire

extension Session {
    /// Entries per `listing` frame: even with 255-byte names fully escaped this stays under a frame.
    static let entriesPerFrame = 32

    /// `ls`: streams a directory's entries in `listing` frames, never holding more than one frame's worth,
    /// and stops at the configured maximum. Temporary upload files are never shown.
    func list(_ request: PathRequest, root: ShareRoot) throws {
        let path = try SharePath(parsing: request.path)
        let directory = try root.openDirectory(path)
        let stream: DirectoryStream
        do { stream = try DirectoryStream(directory) } catch { throw ErrorReply(posix: error) }
        var batch: [Entry] = []
        var total = 0
        var truncated = false
        while let name = try nextName(stream, path: path) {
            if TemporaryFile.isReserved(name) { continue }
            guard let status = try? FileStatus.of(name, in: directory) else { continue }
            if total == configuration.maxListEntries {
                truncated = true
                break
            }
            batch.append(entry(name, in: directory, status: status))
            total += 1
            if batch.count == Self.entriesPerFrame {
                try reply(.listing(Listing(entries: batch, more: true)))
                batch.removeAll(keepingCapacity: true)
            }
        }
        try reply(.listing(Listing(entries: batch, more: false, truncated: truncated ? true : nil)))
        logger.info("ls \(path): \(total) entries\(truncated ? " (truncated)" : "")")
    }

    /// `stat`: one entry, following symlinks that stay inside the root.
    func stat(_ request: PathRequest, root: ShareRoot) throws {
        let path = try SharePath(parsing: request.path)
        let reply: Entry
        do {
            if path.isRoot {
                reply = Entry(name: path.name, status: try FileStatus.of(root.directory))
            } else {
                let location = try root.locate(path, followFinal: true)
                let status = try FileStatus.of(location.name, in: location.parent)
                // Through a symlink the digests belong to its target, which lstat does not describe.
                var found = status.kind == .symlink ? Entry(name: path.name, status: status) : entry(location.name, in: location.parent, status: status)
                found.name = path.name // the name asked for, not a symlink's target
                reply = found
            }
        } catch let error as PosixError {
            throw ErrorReply(posix: error)
        }
        try self.reply(.entry(EntryReply(entry: reply)))
    }

    /// The wire entry, with the file's digests when the server already has them.
    func entry(_ name: String, in directory: Descriptor, status: FileStatus) -> Entry {
        var entry = Entry(name: name, status: status)
        if let manifest = server.manifests.cached(name, in: directory, status: status) {
            entry.contentHash = manifest.contentHash.hexString
            entry.md5 = manifest.md5?.hexString
        }
        return entry
    }

    private func nextName(_ stream: DirectoryStream, path: SharePath) throws(ErrorReply) -> String? {
        do { return try stream.next() } catch { throw ErrorReply(posix: error) }
    }
}
