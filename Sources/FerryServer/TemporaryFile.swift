import FerryCrypto
import FerryPosix
import Foundation

/// Names of the hidden files uploads are written to before they are verified and renamed into place.
///
/// Clients can never name, list or fetch them; ferryd removes leftovers when it starts and stops.
public enum TemporaryFile {
    /// Every temporary name starts with this.
    public static let prefix = ".ferry-upload-"

    /// A fresh, unguessable temporary name.
    public static func makeName() -> String {
        prefix + SecureRandom.bytes(12).hexString + ".part"
    }

    /// Names of the partials of uploads that may resume (``UploadPartial``) start with this; it begins
    /// with ``prefix``, so everything said of temporary names holds for them too.
    public static let resumablePrefix = prefix + "resume-"

    /// True for names reserved for temporary files.
    public static func isReserved(_ name: String) -> Bool { name.utf8.starts(with: prefix.utf8) }

    /// True for the data file of a resumable upload partial: it counts against the quota.
    public static func isResumableData(_ name: String) -> Bool {
        name.utf8.starts(with: resumablePrefix.utf8) && name.hasSuffix(".part")
    }

    /// Whether the hidden file `name` in `directory` is idle: no upload holds the lock on it (a `put`
    /// holds one on its temporary file, an `upload` on its partial's data file). If it is idle, the lock
    /// is taken and held until the returned descriptor closes, so that no upload takes it up meanwhile;
    /// a file that cannot be opened (gone, say) is idle, with no lock.
    public static func lockIfIdle(_ name: String, in directory: Descriptor) -> (idle: Bool, lock: Descriptor?) {
        guard let file = try? File.openForUpdate(name, in: directory, create: false) else { return (true, nil) }
        guard (try? File.tryLock(file)) == true else { return (false, nil) }
        return (true, file)
    }

    /// Removes temporary files under `root`, at any depth, never following symlinks (a reserved symlink
    /// is removed itself): the plain ones not in use when `plain` is set (at start and stop, when no
    /// upload of this ferryd's can be running), and the resumable partials (``UploadPartial``) last
    /// touched more than `keepPartials` ago and not in use (with `keepPartials` nil, all of them). Calls
    /// `removedPartial` with the size of each resumable data file removed. Returns how many files went.
    @discardableResult
    public static func sweep(root: Descriptor, plain: Bool = true, keepPartials: Duration? = nil,
                             removedPartial: (UInt64) -> Void = { _ in }) -> Int {
        var removed = 0
        let now = Int64(Date().timeIntervalSince1970)
        DirectoryTree.forEachEntry(under: root) { name, directory, status in
            guard isReserved(name) else { return }
            let resumable = name.utf8.starts(with: resumablePrefix.utf8) && status.kind == .file
            if !resumable && !plain { return }
            // A `put` under way holds the lock on its temporary file: on a share that several ferryd
            // serve (docs/SCALING.md), another one's upload, which its end removes or stores.
            if !resumable && status.kind == .file && !lockIfIdle(name, in: directory).idle { return }
            if resumable, let keepPartials {
                guard now - status.modificationTime > keepPartials.components.seconds else { return }
                // In use by an upload right now: the lock on its data file says so.
                let data = isResumableData(name) ? name : String(name.dropLast(".chunks".count)) + ".part"
                guard lockIfIdle(data, in: directory).idle else { return }
                if isResumableData(name) { removedPartial(UInt64(max(status.size, 0))) }
            }
            if (try? File.remove(name, in: directory)) != nil { removed += 1 }
        }
        return removed
    }
}
