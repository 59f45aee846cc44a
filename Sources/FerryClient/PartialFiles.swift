import FerryPosix
import Synchronization

/// The temporary files of downloads in progress, so that an interrupted `ferry` (Ctrl-C, SIGTERM) can
/// remove them before it exits. Nothing partial is ever under a final name; this keeps the hidden
/// leftovers away too.
public enum PartialFiles {
    private static let paths = Mutex<Set<String>>([])

    static func register(_ path: String) { _ = paths.withLock { $0.insert(path) } }
    static func unregister(_ path: String) { _ = paths.withLock { $0.remove(path) } }

    /// Removes every registered file; returns how many.
    @discardableResult
    public static func removeAll() -> Int {
        let all = paths.withLock { paths -> Set<String> in
            let all = paths
            paths.removeAll()
            return all
        }
        return all.reduce(0) { count, path in (try? File.remove(path: path)) != nil ? count + 1 : count }
    }
}
