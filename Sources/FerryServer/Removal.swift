#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryWire

/// Removes entries inside a user's root for `rm` and `rmdir`, and counts what went.
///
/// Nothing is ever followed: every directory is opened with O_NOFOLLOW relative to its parent, and a
/// symlink (or a directory swapped for one meanwhile) is unlinked itself, so a removal cannot leave the
/// directory it was asked to remove. Before a tree is touched it is walked once: every directory must be
/// readable, and no hidden upload file in it may be in use (a `put`'s temporary file or an `upload`'s
/// partial, whose lock says so); the idle ones are locked until they are removed, so that no upload takes
/// them up meanwhile. Then the tree is removed depth first, with one descriptor per level.
final class Removal {
    /// The path of the entry being removed, for messages and logs.
    let path: SharePath
    /// Files, symlinks and special files a client could see that were removed.
    private(set) var files: UInt64 = 0
    /// Directories removed (not counting hidden ones, which no client can make).
    private(set) var directories: UInt64 = 0
    /// The bytes of the visible regular files removed.
    private(set) var bytes: UInt64 = 0
    /// What the quota gets back: the visible files' bytes, and the full size of each resumable upload
    /// partial removed (which is what it was counted at).
    private(set) var freed: UInt64 = 0
    /// Hears the status of every regular file removed, so that nothing cached for it outlives it.
    private let removedFile: (FileStatus) -> Void
    /// Locks on the idle hidden upload files, held from the check until they are removed, and which
    /// files they are (device and inode).
    private var locks: [Descriptor] = []
    private var claimed: Set<[UInt64]> = []

    /// Times a directory is read again because it was not empty after its entries were removed
    /// (something was created in it meanwhile) before the removal gives up.
    static let maximumPasses = 3

    init(path: SharePath, removedFile: @escaping (FileStatus) -> Void) {
        self.path = path
        self.removedFile = removedFile
    }

    /// What was removed, as the reply says it.
    var removed: Removed { Removed(files: files, directories: directories, bytes: bytes) }

    /// Removes one entry that is not a directory: a file, a symlink (never its target), a FIFO.
    func removeEntry(_ name: String, in directory: Descriptor, status: FileStatus) throws(ErrorReply) {
        try unlink(name, in: directory, status: status, at: [])
    }

    /// Removes the directory `name` in `parent` if it holds nothing a client can see. Hidden upload
    /// files in it go with it, unless one is in use (`busy`); anything else makes it `not_empty`.
    func removeEmptyDirectory(_ name: String, in parent: Descriptor) throws(ErrorReply) {
        let directory = try open(name, in: parent, at: [])
        var hidden: [(String, FileStatus)] = []
        try forEachName(in: directory, at: []) { entry throws(ErrorReply) in
            guard TemporaryFile.isReserved(entry), let status = try? FileStatus.of(entry, in: directory), status.kind == .file else {
                throw ErrorReply(.notEmpty, "\(path) is not empty")
            }
            hidden.append((entry, status))
        }
        for (entry, status) in hidden { try claim(entry, in: directory, status: status, at: [], removing: false) }
        for (entry, status) in hidden { try unlink(entry, in: directory, status: status, at: [entry]) }
        try removeDirectory(name, in: parent, at: [], emptyOrNot: ErrorReply(.notEmpty, "\(path) is not empty"))
    }

    /// Removes the directory `name` in `parent` and everything below it: first checks the whole tree
    /// (readable, no upload in progress), then removes it. A failure during the removal stops it there;
    /// what was removed before stays removed, and the error says how much that was.
    func removeTree(_ name: String, in parent: Descriptor) throws(ErrorReply) {
        try walk(name, in: parent, visit: { entry, directory, status, at throws(ErrorReply) in
            try self.claim(entry, in: directory, status: status, at: at, removing: false)
        }, leave: { _, _, _ in true })
        do {
            try walk(name, in: parent, visit: { entry, directory, status, at throws(ErrorReply) in
                // An upload that began in the tree since the check is not pulled from under it either.
                try self.claim(entry, in: directory, status: status, at: at, removing: true)
                try self.unlink(entry, in: directory, status: status, at: at)
            }, leave: { entry, directory, at throws(ErrorReply) in
                try self.removeDirectory(entry, in: directory, at: at, emptyOrNot: nil)
            })
        } catch {
            guard files + directories > 0 else { throw error }
            throw ErrorReply(error.code, "\(error.message); \(files) files and \(directories) directories were removed before that")
        }
    }

    // MARK: steps

    /// Unlinks an entry that is not a directory, counting it.
    private func unlink(_ name: String, in directory: Descriptor, status: FileStatus, at: [String]) throws(ErrorReply) {
        do { try File.remove(name, in: directory) } catch {
            if error.code == ENOENT { return } // gone already: nothing to count
            throw failure(error, at: at)
        }
        let size = UInt64(max(status.size, 0))
        if status.kind == .file { removedFile(status) }
        if TemporaryFile.isReserved(name) {
            if status.kind == .file && TemporaryFile.isResumableData(name) { freed += size }
            return
        }
        files += 1
        if status.kind == .file {
            bytes += size
            freed += size
        }
    }

    /// Removes an emptied directory; returns false when it is not empty (something was made in it
    /// meanwhile), or throws `emptyOrNot` then if given.
    @discardableResult
    private func removeDirectory(_ name: String, in parent: Descriptor, at: [String], emptyOrNot: ErrorReply?) throws(ErrorReply) -> Bool {
        do { try File.removeDirectory(name, in: parent) } catch {
            if error.code == ENOTEMPTY || error.code == EEXIST {
                if let emptyOrNot { throw emptyOrNot }
                return false
            }
            if error.code == ENOENT { return true }
            throw failure(error, at: at)
        }
        if !TemporaryFile.isReserved(name) { directories += 1 }
        return true
    }

    /// Takes the lock of a hidden upload file (anything else is let be) unless it is taken already;
    /// `busy`, naming its directory, if an upload holds it. `removing` says whether the removal has
    /// begun, and so whether anything was removed yet.
    private func claim(_ name: String, in directory: Descriptor, status: FileStatus, at: [String], removing: Bool) throws(ErrorReply) {
        guard TemporaryFile.isReserved(name), status.kind == .file, !claimed.contains([status.device, status.inode]) else { return }
        let (idle, lock) = TemporaryFile.lockIfIdle(name, in: directory)
        guard idle else {
            throw ErrorReply(.busy, "\(display(at.dropLast())): an upload into it is in progress" + (removing ? "" : "; nothing was removed"))
        }
        if let lock {
            locks.append(lock)
            claimed.insert([status.device, status.inode])
        }
    }

    // MARK: walking

    private struct Level {
        let name: String
        let parent: Descriptor
        let directory: Descriptor
        let stream: DirectoryStream
        /// Components from the removed entry down to this directory, the entry's own name first.
        let at: [String]
        let pass: Int
    }

    /// Depth first through the directory `name` in `parent`: `visit` for every entry that is not a
    /// directory, `leave` for every directory once its entries were visited (the named one last). When
    /// `leave` returns false the directory is read again, at most ``maximumPasses`` times.
    private func walk(_ name: String, in parent: Descriptor,
                      visit: (String, Descriptor, FileStatus, [String]) throws(ErrorReply) -> Void,
                      leave: (String, Descriptor, [String]) throws(ErrorReply) -> Bool) throws(ErrorReply) {
        var stack = [try level(name, in: parent, at: [name], pass: 1)]
        while let top = stack.last {
            guard let entry = try nextName(top.stream, at: top.at) else {
                stack.removeLast()
                if try !leave(top.name, top.parent, top.at) {
                    guard top.pass < Self.maximumPasses else {
                        throw ErrorReply(.busy, "\(display(top.at)) keeps changing while it is being removed; try again")
                    }
                    stack.append(try level(top.name, in: top.parent, at: top.at, pass: top.pass + 1))
                }
                continue
            }
            let at = top.at + [entry]
            guard var status = try? FileStatus.of(entry, in: top.directory) else { continue } // gone meanwhile
            if status.kind == .directory {
                do {
                    stack.append(try level(entry, in: top.directory, at: at, pass: 1))
                    continue
                } catch where error.code == .permissionDenied || error.code == .notDirectory || error.code == .notFound {
                    // Swapped for a symlink or a file since the lstat: removed as what it is now.
                    guard let now = try? FileStatus.of(entry, in: top.directory) else { continue } // gone meanwhile
                    guard now.kind != .directory else { throw error }
                    status = now
                }
            }
            try visit(entry, top.directory, status, at)
        }
    }

    private func level(_ name: String, in parent: Descriptor, at: [String], pass: Int) throws(ErrorReply) -> Level {
        let directory = try open(name, in: parent, at: at)
        do {
            return Level(name: name, parent: parent, directory: directory, stream: try DirectoryStream(directory), at: at, pass: pass)
        } catch {
            throw failure(error, at: at)
        }
    }

    private func open(_ name: String, in parent: Descriptor, at: [String]) throws(ErrorReply) -> Descriptor {
        do { return try File.openDirectory(name, in: parent) } catch {
            throw failure(error, at: at)
        }
    }

    private func forEachName(in directory: Descriptor, at: [String], _ body: (String) throws(ErrorReply) -> Void) throws(ErrorReply) {
        let stream: DirectoryStream
        do { stream = try DirectoryStream(directory) } catch { throw failure(error, at: at) }
        while let name = try nextName(stream, at: at) { try body(name) }
    }

    private func nextName(_ stream: DirectoryStream, at: [String]) throws(ErrorReply) -> String? {
        do { return try stream.next() } catch { throw failure(error, at: at) }
    }

    /// A failed call, reported with the path it failed on.
    private func failure(_ error: PosixError, at: [String]) -> ErrorReply {
        let mapped = ErrorReply(posix: error)
        return ErrorReply(mapped.code, "\(display(at)): \(mapped.message)")
    }

    /// The path of an entry given by its components from the removed entry down (the entry's own name
    /// first; none for the entry itself).
    private func display(_ at: some Collection<String>) -> String {
        at.count <= 1 ? path.description : (path.components + at.dropFirst()).joined(separator: "/")
    }
}
