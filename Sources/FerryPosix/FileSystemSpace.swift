/// The size of the file system holding a directory, and what is free on it (fstatvfs(2)).
public struct FileSystemSpace: Sendable, Equatable {
    /// Bytes an unprivileged user may still write.
    public let free: UInt64
    /// Bytes the file system holds in all.
    public let total: UInt64

    /// The space of the file system that holds `descriptor`.
    public static func of(_ descriptor: Descriptor) throws(PosixError) -> FileSystemSpace {
        let st = try Posix.fstatvfs(descriptor.rawValue)
        return FileSystemSpace(free: UInt64(st.f_bavail) &* UInt64(st.f_frsize), total: UInt64(st.f_blocks) &* UInt64(st.f_frsize))
    }
}
