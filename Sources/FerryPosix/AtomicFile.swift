#if canImport(Glibc)
import Glibc
#endif

/// Replaces a whole file so that a reader, or a crash, sees the old contents or the new ones, never a
/// mix: the bytes go to a hidden file beside it (created with the final mode, so a secret is never
/// readable by others even for a moment), which is fsynced and renamed over the name, and the
/// directory is fsynced.
public enum AtomicFile {
    /// Writes `contents` to `path` with permission bits `mode` (less the umask).
    public static func write(_ contents: [UInt8], to path: String, mode: mode_t) throws(PosixError) {
        try write(contents, to: path, mode: mode) { _ throws(PosixError) in }
    }

    /// Replaces the existing file at `path` (not a symlink: give the path it leads to) with `contents`,
    /// keeping its permission bits exactly and, where this process may set them, its owner and group:
    /// a configuration file edited by root for a daemon running as another user stays readable by it.
    public static func replace(_ path: String, with contents: [UInt8]) throws(PosixError) {
        let status = try FileStatus.of(path: path)
        let mode = mode_t(status.mode & 0o7777)
        try write(contents, to: path, mode: mode & 0o700) { file throws(PosixError) in
            // Owner first: fchown may clear set-id bits, which fchmod then puts back. Not being allowed
            // to give the file away (not root) leaves it ours, as any editor would.
            try? Posix.fchown(file.rawValue, owner: uid_t(status.owner), group: gid_t(status.group))
            try Posix.fchmod(file.rawValue, mode: mode)
        }
    }

    /// The temporary file is created with `mode`, given to `prepare` before anything is written to it,
    /// then filled, synced and renamed over `path`.
    private static func write(_ contents: [UInt8], to path: String, mode: mode_t,
                              prepare: (Descriptor) throws(PosixError) -> Void) throws(PosixError) {
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directoryPath = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let directory = try File.openDirectory(path: directoryPath.isEmpty ? "/" : directoryPath)
        let temporary = ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let file = try File.createExclusive(temporary, in: directory, mode: mode)
        do throws(PosixError) {
            try prepare(file)
            let failure = contents.withUnsafeBytes { buffer -> PosixError? in
                do throws(PosixError) { try File.write(file, buffer) } catch { return error }
                return nil
            }
            if let failure { throw failure }
            try File.sync(file)
            try File.rename(temporary, to: name, in: directory)
        } catch {
            try? File.remove(temporary, in: directory)
            throw error
        }
        try File.syncDirectory(directory)
    }
}
