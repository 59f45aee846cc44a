#if canImport(Glibc)
import Glibc
#endif

/// Replaces a whole file so that a reader, or a crash, sees the old contents or the new ones, never a
/// mix: the bytes go to a hidden file beside it (created with the final mode, so a secret is never
/// readable by others even for a moment), which is fsynced and renamed over the name, and the
/// directory is fsynced.
public enum AtomicFile {
    /// Writes `contents` to `path` with permission bits `mode`.
    public static func write(_ contents: [UInt8], to path: String, mode: mode_t) throws(PosixError) {
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directoryPath = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let directory = try File.openDirectory(path: directoryPath.isEmpty ? "/" : directoryPath)
        let temporary = ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let file = try File.createExclusive(temporary, in: directory, mode: mode)
        do throws(PosixError) {
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
