import FerryPosix

/// Where a download lands: a directory and a file name in it.
public struct LocalDestination: Equatable, Sendable {
    public let directory: String
    public let name: String

    public var path: String { directory == "/" ? "/" + name : directory + "/" + name }

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    /// The name a remote path is saved under: its last component. The server's own idea of the name is
    /// never used, so a server cannot make the client write anywhere it was not asked to.
    public static func fileName(forRemote remote: String) -> String? {
        guard let last = remote.split(separator: "/").last.map(String.init), last != ".", last != ".." else { return nil }
        return last
    }

    /// Resolves `ferry get REMOTE [LOCAL]`: no LOCAL means the download directory (created if missing);
    /// an existing directory means a file in it named after REMOTE; anything else is the file path itself.
    public static func resolve(remote: String, local: String?, downloadDirectory: String) throws(ClientError) -> LocalDestination {
        guard let remoteName = fileName(forRemote: remote) else {
            throw ClientError("\(remote): does not name a file")
        }
        guard let local, !local.isEmpty else {
            try makeDirectory(downloadDirectory)
            return LocalDestination(directory: downloadDirectory, name: remoteName)
        }
        if isDirectory(local) {
            return LocalDestination(directory: trimmingSlashes(local), name: remoteName)
        }
        if local.hasSuffix("/") { throw ClientError("\(local): no such directory") }
        let parts = local.split(separator: "/", omittingEmptySubsequences: false)
        let name = String(parts.last ?? "")
        let directory = parts.count == 1 ? "." : (local.hasPrefix("/") && parts.count == 2 ? "/" : parts.dropLast().joined(separator: "/"))
        guard isDirectory(directory) else { throw ClientError("\(directory): no such directory") }
        return LocalDestination(directory: directory, name: name)
    }

    /// Resolves `ferry get -r REMOTE [LOCAL]` as scp -r does: an existing LOCAL directory receives a
    /// copy named after REMOTE; any other LOCAL is the copy itself (created, its parent must exist); no
    /// LOCAL means a copy in the download directory. The root itself has no name, so its contents go
    /// straight into LOCAL or the download directory.
    public static func resolveTree(remote: String, local: String?, downloadDirectory: String) throws(ClientError) -> String {
        let base: String
        if let local, !local.isEmpty {
            guard isDirectory(local) else { return trimmingSlashes(local) }
            base = trimmingSlashes(local)
        } else {
            try makeDirectory(downloadDirectory)
            base = trimmingSlashes(downloadDirectory)
        }
        guard let name = fileName(forRemote: remote) else { return base }
        return LocalDestination(directory: base, name: name).path
    }

    static func isDirectory(_ path: String) -> Bool {
        (try? FileStatus.of(File.openDirectory(path: path)))?.kind == .directory
    }

    static func makeDirectory(_ path: String) throws(ClientError) {
        if isDirectory(path) { return }
        do {
            try File.makeDirectory(path: path)
        } catch {
            throw ClientError("cannot create download directory \(path): \(error.reason)")
        }
    }

    static func trimmingSlashes(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
