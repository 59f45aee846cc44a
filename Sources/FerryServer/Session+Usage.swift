import FerryPosix
import FerryWire

extension Session {
    /// `df` (feature `manage`): what counts against the user's quota under their root, the quota, and
    /// the free and total bytes of the file system holding the root. For read-only users too.
    func diskUsage(root: ShareRoot) throws {
        let used = try server.quotas.used(in: root)
        let space: FileSystemSpace
        do { space = try FileSystemSpace.of(root.directory) } catch { throw ErrorReply(posix: error) }
        try reply(.usage(Usage(quotaUsed: used, quota: user?.quota, diskFree: space.free, diskTotal: space.total)))
    }
}
