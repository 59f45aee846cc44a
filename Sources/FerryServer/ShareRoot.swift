#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryWire

/// A user's root directory and the only way the server reaches a file inside it.
///
/// Paths are walked one component at a time with openat(O_NOFOLLOW) from a descriptor of the root, so
/// the kernel, not a string comparison, keeps every access inside. Symlinks are followed only when
/// their target is relative and stays inside the root; an absolute target, or one that climbs above
/// the root, is refused. A directory swapped for a symlink mid-walk is seen as a symlink, never followed
/// blindly.
public final class ShareRoot: Sendable {
    /// The open root directory.
    public let directory: Descriptor
    /// How many symlinks one lookup may follow, as Linux's own limit.
    static let maximumSymlinkHops = 40
    /// Times one component may be looked at again because it changed during the lookup.
    static let maximumLookupRetries = 8

    /// Opens `path` as a root.
    public init(path: String) throws(PosixError) {
        directory = try File.openDirectory(path: path)
    }

    /// A located entry: its parent directory, open, and its name there.
    public struct Location {
        public let parent: Descriptor
        public let name: String
        /// The resolved path inside the root, for logs and replies.
        public let path: SharePath
    }

    /// Finds the parent of `path`'s last component, following symlinks in the directories above it.
    /// With `followFinal`, a symlink in the last position is followed as well (for reading).
    /// The root itself has no parent; ask for it with ``openDirectory(_:)``.
    public func locate(_ path: SharePath, followFinal: Bool) throws(ErrorReply) -> Location {
        var pending = ArraySlice(path.components)
        var resolved: [String] = []
        var current = directory
        var hops = 0
        var retries = 0
        /// The entry changed kind between the lstat and the open or readlink (a directory swapped for a
        /// symlink, say): look at it again, a few times, so the answer fits what is there now.
        func lookAgain(_ name: String) throws(ErrorReply) {
            retries += 1
            guard retries <= Self.maximumLookupRetries else {
                throw ErrorReply(.notFound, "\(name) keeps changing while being looked up; try again")
            }
            pending = [name] + pending
        }
        while let name = pending.first {
            pending = pending.dropFirst()
            if name == "." || name.isEmpty { continue }
            if name == ".." {
                guard !resolved.isEmpty else {
                    throw ErrorReply(.permissionDenied, "a symlink leads outside your root")
                }
                resolved.removeLast()
                current = try walk(resolved, original: path)
                continue
            }
            if TemporaryFile.isReserved(name) {
                // Reached through a symlink: uploads in progress are never visible.
                throw ErrorReply(.notFound, "no such file or directory")
            }
            let isLast = pending.isEmpty
            let status: FileStatus
            do {
                status = try FileStatus.of(name, in: current)
            } catch {
                if isLast && error.code == ENOENT {
                    return Location(parent: current, name: name, path: try Self.resolvedPath(resolved + [name]))
                }
                if error.code == ENOENT { throw ErrorReply(.notFound, "no such directory: \(name)") }
                throw ErrorReply(posix: error)
            }
            if status.kind == .symlink && (!isLast || followFinal) {
                hops += 1
                guard hops <= Self.maximumSymlinkHops else {
                    throw ErrorReply(.permissionDenied, "too many levels of symlinks")
                }
                let target: String
                do { target = try File.symlinkTarget(name, in: current) } catch {
                    // EINVAL: no longer a symlink; ENOENT: gone.
                    guard error.code == EINVAL || error.code == ENOENT else { throw ErrorReply(posix: error) }
                    hops -= 1
                    try lookAgain(name)
                    continue
                }
                guard target.utf8.first != UInt8(ascii: "/") else {
                    throw ErrorReply(.permissionDenied, "a symlink leads outside your root")
                }
                pending = ArraySlice(SharePath.components(of: target)) + pending
                continue
            }
            if isLast {
                return Location(parent: current, name: name, path: try Self.resolvedPath(resolved + [name]))
            }
            guard status.kind == .directory else {
                throw ErrorReply(.notDirectory, "\(name) is not a directory")
            }
            do { current = try File.openDirectory(name, in: current) } catch {
                // ELOOP: now a symlink (O_NOFOLLOW); ENOTDIR: now something else; ENOENT: gone.
                guard [ELOOP, ENOTDIR, ENOENT].contains(error.code) else { throw ErrorReply(posix: error) }
                try lookAgain(name)
                continue
            }
            resolved.append(name)
            // Deeper than any answer could be: no need to walk on.
            guard resolved.count < SharePath.maximumComponents else { throw Self.resolvesTooLong }
        }
        throw ErrorReply(.invalidPath, "names no file")
    }

    /// The path a lookup arrived at, which replies and logs quote. Symlinks can make a short request
    /// resolve to an arbitrarily long path; one longer than a client may write is refused, so that every
    /// path the server echoes is bounded like the paths it accepts.
    static func resolvedPath(_ components: [String]) throws(ErrorReply) -> SharePath {
        let bytes = components.reduce(components.count - 1) { $0 + $1.utf8.count }
        guard bytes <= SharePath.maximumBytes, components.count <= SharePath.maximumComponents else {
            throw resolvesTooLong
        }
        return SharePath(components: components)
    }

    static let resolvesTooLong = ErrorReply(
        .invalidPath,
        "the path resolves, through symlinks, to more than \(SharePath.maximumBytes) bytes or \(SharePath.maximumComponents) components"
    )

    /// Opens `path` as a directory (the root for an empty path), following symlinks that stay inside.
    public func openDirectory(_ path: SharePath) throws(ErrorReply) -> Descriptor {
        if path.isRoot { return directory }
        let location = try locate(path, followFinal: true)
        do {
            return try File.openDirectory(location.name, in: location.parent)
        } catch {
            throw ErrorReply(posix: error)
        }
    }

    /// Walks already resolved directory names from the root again (after a symlink went "..").
    private func walk(_ names: [String], original: SharePath) throws(ErrorReply) -> Descriptor {
        var current = directory
        for name in names {
            do { current = try File.openDirectory(name, in: current) } catch { throw ErrorReply(posix: error) }
        }
        return current
    }
}
