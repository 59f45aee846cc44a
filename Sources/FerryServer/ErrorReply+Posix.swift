#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryWire

extension ErrorReply {
    /// Maps a failed file system call to the error a client is shown. The client knows which path it
    /// asked for, so the message names only what went wrong; nothing of the server's own paths leaks.
    public init(posix error: PosixError) {
        switch error.code {
        case ENOENT: self.init(.notFound, "no such file or directory")
        case EACCES, EPERM: self.init(.permissionDenied, "permission denied")
        case ELOOP: self.init(.permissionDenied, "is a symlink")
        case EISDIR: self.init(.isDirectory, "is a directory")
        case ENOTDIR: self.init(.notDirectory, "not a directory")
        case ENAMETOOLONG: self.init(.invalidPath, "name too long")
        case ENOSPC, EDQUOT, EFBIG: self.init(.tooLarge, "not enough space on the server")
        case EEXIST: self.init(.permissionDenied, "already exists")
        case ENOTEMPTY: self.init(.notEmpty, "directory not empty")
        default: self.init(.internal, "\(error.reason)")
        }
    }
}
