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

    /// Removes every temporary file under `root`, descending into directories but never following
    /// symlinks. Returns how many were removed.
    @discardableResult
    public static func sweep(root: Descriptor, depthLimit: Int = 64) -> Int {
        var removed = 0
        guard depthLimit > 0, let stream = try? DirectoryStream(root) else { return 0 }
        while let name = try? stream.next() {
            if isReserved(name) {
                if (try? File.remove(name, in: root)) != nil { removed += 1 }
                continue
            }
            guard let status = try? FileStatus.of(name, in: root), status.kind == .directory,
                  let child = try? File.openDirectory(name, in: root)
            else { continue }
            removed += sweep(root: child, depthLimit: depthLimit - 1)
        }
        return removed
    }
}
