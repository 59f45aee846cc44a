#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Regular-file operations on owned descriptors, all relative to a directory descriptor.
public enum File {
    /// Opens `name` in `directory` without ever following a symlink in that last component.
    public static func open(_ name: String, in directory: Descriptor, flags: Int32, mode: mode_t = 0o644) throws(PosixError) -> Descriptor {
        Descriptor(try Posix.openat(directory.rawValue, name, flags: flags | O_NOFOLLOW, mode: mode))
    }

    /// Opens the directory `name` inside `directory`; fails with ELOOP or ENOTDIR on a symlink.
    public static func openDirectory(_ name: String, in directory: Descriptor) throws(PosixError) -> Descriptor {
        try open(name, in: directory, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Opens `name` for reading. O_NONBLOCK keeps a FIFO from blocking the open; it is harmless on files.
    public static func openForReading(_ name: String, in directory: Descriptor) throws(PosixError) -> Descriptor {
        try open(name, in: directory, flags: O_RDONLY | O_NONBLOCK)
    }

    /// Creates `name`, failing with EEXIST if anything, even a dangling symlink, has that name.
    public static func createExclusive(_ name: String, in directory: Descriptor, mode: mode_t = 0o644) throws(PosixError) -> Descriptor {
        try open(name, in: directory, flags: O_WRONLY | O_CREAT | O_EXCL, mode: mode)
    }

    /// Opens `name` in `directory` for reading and writing at any offset, never through a symlink;
    /// `create` makes it if missing (with `mode`, 0600 unless said), `truncate` empties it.
    public static func openForUpdate(_ name: String, in directory: Descriptor, create: Bool, truncate: Bool = false,
                                     mode: mode_t = 0o600) throws(PosixError) -> Descriptor {
        try open(name, in: directory, flags: O_RDWR | (create ? O_CREAT : 0) | (truncate ? O_TRUNC : 0), mode: mode)
    }

    /// Opens a directory by path (absolute, or relative to the working directory).
    public static func openDirectory(path: String) throws(PosixError) -> Descriptor {
        Descriptor(try Posix.openat(AT_FDCWD, path, flags: O_RDONLY | O_DIRECTORY))
    }

    /// Opens (creating with mode 0640 if needed) a file by path for appending.
    public static func openForAppending(path: String) throws(PosixError) -> Descriptor {
        Descriptor(try Posix.openat(AT_FDCWD, path, flags: O_WRONLY | O_APPEND | O_CREAT, mode: 0o640))
    }

    /// Opens an existing file, device or pipe for writing, creating and truncating nothing.
    public static func openForWriting(path: String) throws(PosixError) -> Descriptor {
        Descriptor(try Posix.openat(AT_FDCWD, path, flags: O_WRONLY | O_NOCTTY))
    }

    /// Opens a file by path for reading and writing at any offset (following symlinks: the path is the
    /// local user's own); `create` makes it, with `mode`, if missing.
    public static func openForUpdate(path: String, create: Bool, mode: mode_t = 0o600) throws(PosixError) -> Descriptor {
        Descriptor(try Posix.openat(AT_FDCWD, path, flags: O_RDWR | (create ? O_CREAT : 0), mode: mode))
    }

    /// Opens a file by path for reading (following symlinks: the path is the local user's own).
    public static func openForReading(path: String) throws(PosixError) -> Descriptor {
        Descriptor(try Posix.openat(AT_FDCWD, path, flags: O_RDONLY | O_NONBLOCK))
    }

    /// The whole contents of the regular file at `path` (following symlinks) and its status, both taken
    /// from one open descriptor, so they belong to the same version of the file even when it is being
    /// replaced by a rename meanwhile. (A file written in place while it is read may be read in part;
    /// its status then differs from the next one taken.) A file over `limit` bytes is refused with EFBIG.
    public static func contents(path: String, limit: Int) throws(PosixError) -> (bytes: [UInt8], status: FileStatus) {
        let file = try openForReading(path: path)
        let status = try FileStatus.of(file)
        guard status.kind == .file else { throw PosixError(code: status.kind == .directory ? EISDIR : EINVAL, function: "open") }
        guard status.size <= Int64(limit) else { throw PosixError(code: EFBIG, function: "read") }
        var bytes = [UInt8](repeating: 0, count: Int(status.size))
        let result: Result<Int, PosixError> = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(PosixError) in try read(file, into: buffer, at: 0) }
        }
        let count = try result.get()
        return (Array(bytes.prefix(count)), status)
    }

    /// Reads the target of the symlink `name` inside `directory`.
    public static func symlinkTarget(_ name: String, in directory: Descriptor) throws(PosixError) -> String {
        try Posix.readlinkat(directory.rawValue, name)
    }

    /// Syncs a directory so that a rename inside it survives a crash.
    public static func syncDirectory(_ directory: Descriptor) throws(PosixError) {
        try Posix.fsync(directory.rawValue)
    }

    /// Writes every byte to a regular file.
    public static func write(_ file: Descriptor, _ buffer: UnsafeRawBufferPointer) throws(PosixError) {
        try writeAll(file.rawValue, buffer)
    }

    /// Writes every byte to a descriptor this process does not own (standard output), blocking.
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(PosixError) {
        var rest = buffer
        while !rest.isEmpty {
            guard let count = try Posix.write(fd, from: rest), count > 0 else {
                throw PosixError(code: EIO, function: "write")
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
        }
    }

    /// Copies everything `source` holds, from its start, to `fd`: a download sent on to standard output
    /// or a device once it is verified.
    public static func copy(_ source: Descriptor, to fd: Int32) throws(PosixError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let count = try read(source, into: buffer, at: offset)
            if count == 0 { return }
            try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            offset += Int64(count)
        }
    }

    /// Writes every byte at `offset` (pwrite(2)), leaving the file offset alone: several threads may
    /// write different parts of one file at once.
    public static func write(_ file: Descriptor, _ buffer: UnsafeRawBufferPointer, at offset: Int64) throws(PosixError) {
        var done = 0
        while done < buffer.count {
            let count = try Posix.pwrite(file.rawValue, from: UnsafeRawBufferPointer(rebasing: buffer[done...]), offset: offset + Int64(done))
            guard count > 0 else { throw PosixError(code: EIO, function: "pwrite") }
            done += count
        }
    }

    /// Writes `bytes` at `offset`.
    public static func write(_ file: Descriptor, _ bytes: [UInt8], at offset: Int64) throws(PosixError) {
        let result: Result<Void, PosixError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(PosixError) in try write(file, buffer, at: offset) }
        }
        try result.get()
    }

    /// True when `count` bytes at `offset` are a hole that reads as zeros (SEEK_DATA finds no data in
    /// them). False when the file system cannot tell: reading is always correct, only slower.
    public static func isHole(_ file: Descriptor, offset: Int64, count: Int) -> Bool {
        do {
            guard let next = try Posix.nextData(file.rawValue, from: offset) else {
                // No data from here to the end, which must lie past these bytes (or they are not there to read).
                return Int64(try FileStatus.of(file).size) >= offset + Int64(count)
            }
            return next >= offset + Int64(count)
        } catch {
            return false
        }
    }

    /// Sets the file's length: longer leaves a hole that reads as zeros, shorter drops the tail.
    public static func truncate(_ file: Descriptor, length: Int64) throws(PosixError) {
        try Posix.ftruncate(file.rawValue, length: length)
    }

    /// An exclusive advisory lock (flock), held until the descriptor is closed; false when another
    /// holder has it.
    public static func tryLock(_ file: Descriptor) throws(PosixError) -> Bool {
        try Posix.tryLock(file.rawValue)
    }

    /// An exclusive advisory lock (flock), waiting for it; held until the descriptor is closed.
    public static func lock(_ file: Descriptor) throws(PosixError) {
        try Posix.lock(file.rawValue)
    }

    /// The value of extended attribute `name`, nil when the file has none (or its file system keeps
    /// none). Values longer than `maximumLength` are treated as absent.
    public static func attribute(_ file: Descriptor, _ name: String, maximumLength: Int = 4096) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: maximumLength)
        let count = value.withUnsafeMutableBytes { buffer in (try? Posix.getAttribute(file.rawValue, name, into: buffer)) ?? nil }
        guard let count else { return nil }
        return Array(value[..<count])
    }

    /// Sets extended attribute `name`; fails where the file system keeps none, or the value is too large.
    public static func setAttribute(_ file: Descriptor, _ name: String, _ value: [UInt8]) throws(PosixError) {
        let result: Result<Void, PosixError> = value.withUnsafeBytes { buffer in
            Result { () throws(PosixError) in try Posix.setAttribute(file.rawValue, name, buffer) }
        }
        try result.get()
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    public static func read(_ file: Descriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(PosixError) -> Int {
        var total = 0
        while total < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[total...])
            let count = try Posix.pread(file.rawValue, into: rest, offset: offset + Int64(total))
            if count == 0 { break }
            total += count
        }
        return total
    }

    public static func sync(_ file: Descriptor) throws(PosixError) {
        try Posix.fsync(file.rawValue)
    }

    /// Commits everything written on the file system that holds `descriptor` (syncfs(2)): one journal
    /// commit for a whole batch of files, where an fsync of each would pay one commit per file.
    public static func syncFileSystem(_ descriptor: Descriptor) throws(PosixError) {
        try Posix.syncfs(descriptor.rawValue)
    }

    /// Starts writeback of `count` bytes at `offset` without waiting for it (sync_file_range(2)), so
    /// that a later fsync has little left to do. Not a durability guarantee: only fsync is.
    public static func startWriteback(_ file: Descriptor, offset: Int64, count: Int64) throws(PosixError) {
        try Posix.syncFileRange(file.rawValue, offset: offset, count: count, flags: FERRY_SYNC_FILE_RANGE_WRITE)
    }

    /// Writes out `count` bytes at `offset` and waits until they are on the device (sync_file_range(2)
    /// with WAIT_BEFORE, WRITE and WAIT_AFTER); it bounds dirty memory, it does not replace fsync.
    public static func waitForWriteback(_ file: Descriptor, offset: Int64, count: Int64) throws(PosixError) {
        let flags = FERRY_SYNC_FILE_RANGE_WAIT_BEFORE | FERRY_SYNC_FILE_RANGE_WRITE | FERRY_SYNC_FILE_RANGE_WAIT_AFTER
        try Posix.syncFileRange(file.rawValue, offset: offset, count: count, flags: flags)
    }

    public static func rename(_ from: String, to: String, in directory: Descriptor) throws(PosixError) {
        try Posix.renameat(directory.rawValue, from, directory.rawValue, to)
    }

    /// Renames `from` in `fromDirectory` to `to` in `toDirectory`, atomically. Without `replace`, fails
    /// with EEXIST when `to` exists; with it, replaces `to` as rename(2) does (never through a symlink:
    /// a symlink named `to` is itself replaced).
    public static func rename(_ from: String, in fromDirectory: Descriptor, to: String, in toDirectory: Descriptor,
                              replace: Bool) throws(PosixError) {
        try Posix.renameat2(fromDirectory.rawValue, from, toDirectory.rawValue, to, noReplace: !replace)
    }

    public static func remove(_ name: String, in directory: Descriptor) throws(PosixError) {
        try Posix.unlinkat(directory.rawValue, name)
    }

    /// Removes the empty directory `name` in `directory` (ENOTEMPTY if it is not empty, ENOTDIR if it
    /// is not a directory, a symlink included).
    public static func removeDirectory(_ name: String, in directory: Descriptor) throws(PosixError) {
        try Posix.unlinkat(directory.rawValue, name, directory: true)
    }

    /// Sets the file's modification time to `seconds` since the epoch (whole seconds), leaving its
    /// access time alone.
    public static func setModificationTime(_ file: Descriptor, seconds: Int64) throws(PosixError) {
        try Posix.futimens(file.rawValue, modificationSeconds: seconds)
    }

    /// Sets the file's permission bits.
    public static func setMode(_ file: Descriptor, _ mode: UInt32) throws(PosixError) {
        try Posix.fchmod(file.rawValue, mode: mode_t(mode))
    }

    public static func makeDirectory(_ name: String, in directory: Descriptor, mode: mode_t = 0o755) throws(PosixError) {
        try Posix.mkdirat(directory.rawValue, name, mode: mode)
    }

    /// Removes a file by path; used where only a path survives, such as a signal handler's cleanup.
    public static func remove(path: String) throws(PosixError) {
        try Posix.unlinkat(AT_FDCWD, path)
    }

    /// Creates a directory by path (absolute, or relative to the working directory).
    public static func makeDirectory(path: String, mode: mode_t = 0o755) throws(PosixError) {
        try Posix.mkdirat(AT_FDCWD, path, mode: mode)
    }

    /// Creates a directory by path and any missing parents, each with `mode`; one that exists is left
    /// as it is (as `mkdir -p`).
    public static func makeDirectories(path: String, mode: mode_t = 0o755) throws(PosixError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do { try makeDirectory(path: prefix, mode: mode) } catch where error.code == EEXIST {}
        }
    }

    /// Bytes an unprivileged user may still write on the file system holding `directory`.
    public static func availableSpace(in directory: Descriptor) throws(PosixError) -> UInt64 {
        try FileSystemSpace.of(directory).free
    }
}
