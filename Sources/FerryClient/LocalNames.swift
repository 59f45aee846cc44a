import FerryPosix

/// The names in a local directory, each with whether it is a directory (a symlink to one counts), for
/// completing local paths.
public enum LocalNames {
    /// The names in `path` ("." and ".." left out); nil when it cannot be read as a directory.
    public static func list(_ path: String) -> [ShellCompletion.Name]? {
        guard let directory = try? File.openDirectory(path: path), let stream = try? DirectoryStream(directory) else { return nil }
        var names: [ShellCompletion.Name] = []
        while let name = try? stream.next() {
            let kind = (try? FileStatus.of(name, in: directory, followingSymlinks: true))?.kind
            names.append((name, kind == .directory))
        }
        return names
    }
}
