import FerryCrypto
import FerryPosix

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

    /// True for names reserved for temporary files.
    public static func isReserved(_ name: String) -> Bool { name.utf8.starts(with: prefix.utf8) }

    /// Removes every temporary file under `root`, at any depth, never following symlinks (a reserved
    /// symlink is removed itself). Returns how many were removed.
    @discardableResult
    public static func sweep(root: Descriptor) -> Int {
        var removed = 0
        DirectoryTree.forEachEntry(under: root) { name, directory, _ in
            if isReserved(name), (try? File.remove(name, in: directory)) != nil { removed += 1 }
        }
        return removed
    }
}
