import FerryPosix

/// Visits every entry under a root directory, however deep, without following symlinks and without
/// recursion or a descriptor per level: each directory is reopened by walking its path from the root
/// with O_NOFOLLOW, so a tree a thousand levels deep costs time, never descriptors or stack.
///
/// Used where a depth limit would leave something behind unseen: the sweep of temporary files and
/// the count of bytes under a quota. Entries that vanish or cannot be read meanwhile are skipped.
enum DirectoryTree {
    /// Calls `visit(name, parent, status)` for every entry below `root` (lstat, never following a
    /// symlink), directories included; then descends into the directories, depth first.
    static func forEachEntry(under root: Descriptor, _ visit: (String, Descriptor, FileStatus) -> Void) {
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            guard let directory = open(path, under: root), let stream = try? DirectoryStream(directory) else { continue }
            while let name = try? stream.next() {
                guard let status = try? FileStatus.of(name, in: directory) else { continue }
                visit(name, directory, status)
                if status.kind == .directory { pending.append(path + [name]) }
            }
        }
    }

    /// The directory at `path` below `root`, each component opened without following symlinks; nil if
    /// any of it is gone or has become something else.
    private static func open(_ path: [String], under root: Descriptor) -> Descriptor? {
        var current = root
        for name in path {
            guard let next = try? File.openDirectory(name, in: current) else { return nil }
            current = next
        }
        return current
    }
}
