#if canImport(Glibc)
import Glibc
#endif

/// The parts of stat(2) Ferry uses.
public struct FileStatus: Sendable, Equatable {
    /// What a directory entry is.
    public enum Kind: String, Sendable {
        case file, directory, symlink, fifo, socket, device, other
    }

    public let kind: Kind
    public let size: Int64
    /// Modification time, whole seconds since the epoch.
    public let modificationTime: Int64
    /// Modification time's nanoseconds, so two writes within a second still differ.
    public let modificationNanoseconds: Int64
    public let device: UInt64
    public let inode: UInt64
    public let mode: UInt32
    /// The owning user and group.
    public let owner: UInt32
    public let group: UInt32

    public init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        case S_IFCHR, S_IFBLK: kind = .device
        default: kind = .other
        }
        size = Int64(st.st_size)
        modificationTime = Int64(st.st_mtim.tv_sec)
        modificationNanoseconds = Int64(st.st_mtim.tv_nsec)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        mode = UInt32(st.st_mode)
        owner = UInt32(st.st_uid)
        group = UInt32(st.st_gid)
    }

    /// The status of an open descriptor.
    public static func of(_ descriptor: Descriptor) throws(PosixError) -> FileStatus {
        FileStatus(try Posix.fstat(descriptor.rawValue))
    }

    /// The status of the file at `path` (relative to the working directory), following symlinks.
    public static func of(path: String) throws(PosixError) -> FileStatus {
        FileStatus(try Posix.fstatat(AT_FDCWD, path, followSymlinks: true))
    }

    /// The status of `name` inside the directory `directory`; a final symlink is followed only when
    /// `followingSymlinks` is set.
    public static func of(_ name: String, in directory: Descriptor, followingSymlinks: Bool = false) throws(PosixError) -> FileStatus {
        FileStatus(try Posix.fstatat(directory.rawValue, name, followSymlinks: followingSymlinks))
    }
}

/// What identifies one version of a file's contents, as caches of digests key them: device, inode,
/// size and modification time to the nanosecond. Any write changes the size or the time.
public struct FileVersion: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let seconds: Int64
    public let nanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, seconds: Int64, nanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(_ status: FileStatus) {
        self.init(device: status.device, inode: status.inode, size: status.size,
                  seconds: status.modificationTime, nanoseconds: status.modificationNanoseconds)
    }
}
