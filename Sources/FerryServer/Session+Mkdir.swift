#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryTransport
import FerryWire

extension Session {
    /// `mkdir` (feature `mkdir`): creates a directory inside the user's root, and with `parents` every
    /// missing one on the way, never through a symlink that leads outside the root. Answers with the
    /// directory's `entry`.
    func makeDirectory(_ request: MakeDirectory, root: ShareRoot) throws {
        _ = try writingUser()
        let path = try SharePath(parsing: request.path)
        let parents = request.parents ?? false
        guard !path.isRoot else {
            if parents { return try reply(.entry(EntryReply(entry: Entry(name: "/", status: try status(root.directory))))) }
            throw ErrorReply(.alreadyExists, "the root exists already")
        }
        let steps = parents ? Array(1...path.components.count) : [path.components.count]
        var created = false
        for count in steps {
            let prefix = SharePath(components: Array(path.components.prefix(count)))
            let location = try root.locate(prefix, followFinal: true)
            if let existing = try? FileStatus.of(location.name, in: location.parent) {
                guard existing.kind == .directory else {
                    throw ErrorReply(existing.kind == .file ? .notDirectory : .permissionDenied, "\(prefix) exists and is not a directory")
                }
                if count == path.components.count && !parents { throw ErrorReply(.alreadyExists, "\(prefix) exists already") }
                continue
            }
            do { try File.makeDirectory(location.name, in: location.parent) } catch where error.code == EEXIST {
                // Made by someone else just now: fine for -p; the check above reports it otherwise.
                if !parents { throw ErrorReply(.alreadyExists, "\(prefix) exists already") }
            } catch {
                throw ErrorReply(posix: error)
            }
            created = true
        }
        let location = try root.locate(path, followFinal: true)
        let status: FileStatus
        do { status = try FileStatus.of(location.name, in: location.parent) } catch { throw ErrorReply(posix: error) }
        if created { logger.info("mkdir \(location.path)") }
        try reply(.entry(EntryReply(entry: Entry(name: path.name, status: status))))
    }

    private func status(_ directory: Descriptor) throws(ErrorReply) -> FileStatus {
        do { return try FileStatus.of(directory) } catch { throw ErrorReply(posix: error) }
    }
}
