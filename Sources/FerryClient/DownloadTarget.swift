import FerryPosix

/// Where the verified bytes of a get go: a file put in place by rename, or an existing device, pipe
/// or socket (or standard output, `-`) written into once everything is verified.
///
/// A destination that is a symlink is written through, as cp does: the file it points to is replaced
/// and the link stays. A special file is never replaced by a regular one.
public enum DownloadTarget: Equatable, Sendable {
    case file(LocalDestination)
    /// The path of a device, pipe or socket; nil for standard output.
    case stream(String?)

    /// Resolves `get REMOTE [LOCAL]` as ``LocalDestination/resolve(remote:local:downloadDirectory:)``
    /// does, then looks at what is at the destination now.
    public static func resolve(remote: String, local: String?, downloadDirectory: String) throws(ClientError) -> DownloadTarget {
        if local == "-" { return .stream(nil) }
        let destination = try LocalDestination.resolve(remote: remote, local: local, downloadDirectory: downloadDirectory)
        switch kind(of: destination.path) {
        case .fifo?, .socket?, .device?:
            return .stream(destination.path)
        case .symlink?:
            let target = try followLinks(destination.path)
            switch kind(of: target) {
            case .fifo?, .socket?, .device?: return .stream(target)
            case .directory?: throw ClientError("\(destination.path): is a symlink to a directory")
            default: return .file(try LocalDestination.resolve(remote: remote, local: target, downloadDirectory: downloadDirectory))
            }
        default:
            return .file(destination)
        }
    }

    /// What is at `path`, not following a final symlink; nil when nothing is.
    static func kind(of path: String) -> FileStatus.Kind? {
        let (directory, name) = split(path)
        guard let parent = try? File.openDirectory(path: directory) else { return nil }
        return (try? FileStatus.of(name, in: parent))?.kind
    }

    /// The path a chain of symlinks ends at (which need not exist yet).
    static func followLinks(_ path: String) throws(ClientError) -> String {
        var path = path
        for _ in 0..<40 {
            guard kind(of: path) == .symlink else { return path }
            let (directory, name) = split(path)
            do {
                let target = try File.symlinkTarget(name, in: try File.openDirectory(path: directory))
                path = target.hasPrefix("/") ? target : (directory == "/" ? "" : directory) + "/" + target
            } catch {
                throw ClientError("\(path): \(error.reason)")
            }
        }
        throw ClientError("\(path): too many levels of symbolic links")
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
