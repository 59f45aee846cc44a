#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryWire

extension Session {
    /// `rename` (feature `manage`): renames an entry inside the root in one rename(2), never following a
    /// symlink in either last component. An existing target is replaced only with `replace` (without it
    /// the kernel refuses atomically, RENAME_NOREPLACE), and only by an entry of its kind: a file or
    /// symlink by a non-directory, an empty directory by a directory. Answers with the new name's `entry`.
    /// A rename never makes the root larger; replacing a file gives its bytes back to the quota.
    func rename(_ request: RenameRequest, root: ShareRoot) throws {
        let (from, to) = try renamePaths(request)
        let source = try root.locate(from, followFinal: false)
        let target = try root.locate(to, followFinal: false)
        let status = try existingEntry(source)
        let replace = request.replace ?? false
        if status.kind == .directory, target.path.components.count > source.path.components.count,
           target.path.components.starts(with: source.path.components) {
            throw ErrorReply(.invalidPath, "\(source.path) cannot be moved into itself (\(target.path))")
        }
        var replaced: FileStatus?
        if let existing = try? FileStatus.of(target.name, in: target.parent) {
            guard replace else { throw ErrorReply(.alreadyExists, "\(target.path) exists already (rename with replace to replace it)") }
            if status.kind == .directory && existing.kind != .directory {
                throw ErrorReply(.notDirectory, "\(target.path) is not a directory; a directory can replace only an empty directory")
            }
            if status.kind != .directory && existing.kind == .directory {
                throw ErrorReply(.isDirectory, "\(target.path) is a directory; only a directory can replace it")
            }
            if existing.device != status.device || existing.inode != status.inode { replaced = existing }
        }
        do {
            try File.rename(source.name, in: source.parent, to: target.name, in: target.parent, replace: replace)
        } catch {
            throw Self.renameRefusal(error, from: source.path, to: target.path)
        }
        if let replaced, replaced.kind == .file {
            server.quotas.recordRemoval(in: root, bytes: UInt64(max(replaced.size, 0)))
            server.forgetDigests(of: replaced)
        }
        try? File.syncDirectory(target.parent)
        if source.parent !== target.parent { try? File.syncDirectory(source.parent) }
        logger.info("rename \(source.path) -> \(target.path)")
        let now = try existingEntry(target)
        var reply = now.kind == .symlink ? Entry(name: target.name, status: now) : entry(target.name, in: target.parent, status: now)
        reply.name = target.path.name
        try self.reply(.entry(EntryReply(entry: reply)))
    }

    /// The error for a rename(2) the kernel refused, naming both paths.
    /// The checks every rename starts with, on any storage: a user who may write, two paths, neither
    /// the root.
    func renamePaths(_ request: RenameRequest) throws(ErrorReply) -> (from: SharePath, to: SharePath) {
        _ = try writingUser()
        let from = try SharePath(parsing: request.from)
        let to = try SharePath(parsing: request.to)
        guard !from.isRoot else { throw ErrorReply(.permissionDenied, "the root cannot be renamed") }
        guard !to.isRoot else { throw ErrorReply(.permissionDenied, "the root cannot be replaced") }
        return (from, to)
    }

    private static func renameRefusal(_ error: PosixError, from: SharePath, to: SharePath) -> ErrorReply {
        switch error.code {
        case EEXIST: return ErrorReply(.alreadyExists, "\(to) exists already (rename with replace to replace it)")
        case ENOTEMPTY: return ErrorReply(.notEmpty, "\(to) is a directory that is not empty")
        case EINVAL: return ErrorReply(.invalidPath, "\(from) cannot be moved to \(to) (into itself?)")
        case EXDEV: return ErrorReply(.permissionDenied, "\(from) and \(to) are on different file systems; a rename cannot move between them")
        case ENOENT: return ErrorReply(.notFound, "no such file or directory: \(from)")
        default:
            let mapped = ErrorReply(posix: error)
            return ErrorReply(mapped.code, "rename \(from) to \(to): \(mapped.message)")
        }
    }
}
