#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryWire

extension Session {
    /// The user, if they may change the tree; `permission_denied` for a read-only account, before
    /// anything else is looked at.
    func writingUser() throws(ErrorReply) -> UserRecord {
        guard let user, !user.readOnly else { throw ErrorReply(.permissionDenied, "your account is read-only") }
        return user
    }

    /// The entry at `location` as it is (lstat): what `rm`, `rmdir` and `rename` act on, never followed
    /// if it is a symlink. `not_found` naming it when there is none.
    func existingEntry(_ location: ShareRoot.Location) throws(ErrorReply) -> FileStatus {
        do { return try FileStatus.of(location.name, in: location.parent) } catch {
            if error.code == ENOENT { throw ErrorReply(.notFound, "no such file or directory: \(location.path)") }
            let mapped = ErrorReply(posix: error)
            throw ErrorReply(mapped.code, "\(location.path): \(mapped.message)")
        }
    }
}
