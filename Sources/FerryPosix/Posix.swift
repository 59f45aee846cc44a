#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLinux

/// Every libc call Ferry makes goes through here, once: EINTR is retried, failures throw ``PosixError``.
///
/// Calls that can legitimately report "would block" return `nil` for EAGAIN/EWOULDBLOCK instead of throwing.
public enum Posix {
    @inline(__always)
    static func call<T: BinaryInteger>(_ name: String, _ body: () -> T) throws(PosixError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw PosixError(code: code, function: name)
        }
    }

    @inline(__always)
    static func callNonBlocking<T: BinaryInteger>(_ name: String, _ body: () -> T) throws(PosixError) -> T? {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw PosixError(code: code, function: name)
        }
    }

    // MARK: descriptors

    public static func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already released.
        _ = Glibc.close(fd)
    }

    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(PosixError) -> Int? {
        try callNonBlocking("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// recv(MSG_PEEK): copies waiting bytes without taking them; nil when none are waiting yet.
    public static func peek(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(PosixError) -> Int? {
        try callNonBlocking("recv") { Glibc.recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) }
    }

    public static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: Int64) throws(PosixError) -> Int {
        try call("pread") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    public static func pwrite(_ fd: Int32, from buffer: UnsafeRawBufferPointer, offset: Int64) throws(PosixError) -> Int {
        try call("pwrite") { Glibc.pwrite(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Gives the calling thread (and the threads it starts) a nice value, for background work.
    public static func niceThisThread(_ nice: Int32) {
        _ = ferry_nice_this_thread(nice) // best effort: a thread that stays at its priority still works
    }

    /// lseek(SEEK_DATA): the offset of the first byte of data at or after `offset`; nil when there is
    /// none before the end of the file (ENXIO).
    public static func nextData(_ fd: Int32, from offset: Int64) throws(PosixError) -> Int64? {
        do {
            return Int64(try call("lseek") { Glibc.lseek(fd, off_t(offset), FERRY_SEEK_DATA) })
        } catch where error.code == ENXIO {
            return nil
        }
    }

    public static func ftruncate(_ fd: Int32, length: Int64) throws(PosixError) {
        _ = try call("ftruncate") { Glibc.ftruncate(fd, off_t(length)) }
    }

    /// flock(LOCK_EX | LOCK_NB): false when another open file description holds the lock.
    public static func tryLock(_ fd: Int32) throws(PosixError) -> Bool {
        try callNonBlocking("flock") { ferry_flock(fd, Int32(LOCK_EX | LOCK_NB)) } != nil
    }

    /// flock(LOCK_EX): waits until no other open file description holds the lock.
    public static func lock(_ fd: Int32) throws(PosixError) {
        _ = try call("flock") { ferry_flock(fd, Int32(LOCK_EX)) }
    }

    /// fgetxattr(2) into `buffer`: the value's length, or nil when the file has no such attribute or
    /// the file system keeps none.
    public static func getAttribute(_ fd: Int32, _ name: String, into buffer: UnsafeMutableRawBufferPointer) throws(PosixError) -> Int? {
        do {
            return try call("fgetxattr") { CLinux.fgetxattr(fd, name, buffer.baseAddress, buffer.count) }
        } catch where error.code == ENODATA || error.code == ENOTSUP {
            return nil
        }
    }

    public static func setAttribute(_ fd: Int32, _ name: String, _ value: UnsafeRawBufferPointer) throws(PosixError) {
        _ = try call("fsetxattr") { CLinux.fsetxattr(fd, name, value.baseAddress, value.count, 0) }
    }

    public static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(PosixError) -> Int? {
        try callNonBlocking("write") { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    public static func sendfile(out: Int32, in input: Int32, offset: inout Int64, count: Int) throws(PosixError) -> Int? {
        var off = off_t(offset)
        defer { offset = Int64(off) }
        return try callNonBlocking("sendfile") { Glibc.sendfile(out, input, &off, count) }
    }

    public static func poll(_ fd: Int32, events: Int16, timeoutMilliseconds: Int32) throws(PosixError) -> Int16 {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        let ready = try call("poll") { Glibc.poll(&pfd, 1, timeoutMilliseconds) }
        return ready == 0 ? 0 : pfd.revents
    }

    /// poll(2) on several descriptors for input: for each, whether it is readable (or at its end, or
    /// failed, so that a read returns at once). All false when `timeoutMilliseconds` passes first; -1 waits.
    public static func pollReadable(_ fds: [Int32], timeoutMilliseconds: Int32) throws(PosixError) -> [Bool] {
        var set = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let count = nfds_t(set.count)
        _ = try call("poll") { Glibc.poll(&set, count, timeoutMilliseconds) }
        return set.map { $0.revents & Int16(POLLIN | POLLHUP | POLLERR | POLLNVAL) != 0 }
    }

    /// pipe(2), both ends close-on-exec.
    public static func pipe() throws(PosixError) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        _ = try call("pipe") { Glibc.pipe(&ends) }
        _ = Glibc.fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = Glibc.fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        return (ends[0], ends[1])
    }

    public static func fcntlSetNonBlocking(_ fd: Int32) throws(PosixError) {
        let flags = try call("fcntl") { Glibc.fcntl(fd, F_GETFL) }
        _ = try call("fcntl") { Glibc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    public static func fsync(_ fd: Int32) throws(PosixError) {
        _ = try call("fsync") { Glibc.fsync(fd) }
    }

    public static func syncfs(_ fd: Int32) throws(PosixError) {
        _ = try call("syncfs") { CLinux.syncfs(fd) }
    }

    public static func syncFileRange(_ fd: Int32, offset: Int64, count: Int64, flags: UInt32) throws(PosixError) {
        _ = try call("sync_file_range") { CLinux.sync_file_range(fd, offset, count, flags) }
    }

    public static func fstat(_ fd: Int32) throws(PosixError) -> stat {
        var st = stat()
        _ = try call("fstat") { Glibc.fstat(fd, &st) }
        return st
    }

    public static func fstatat(_ dirfd: Int32, _ name: String, followSymlinks: Bool) throws(PosixError) -> stat {
        var st = stat()
        let flags = followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW
        _ = try call("fstatat") { Glibc.fstatat(dirfd, name, &st, flags) }
        return st
    }

    public static func fchmod(_ fd: Int32, mode: mode_t) throws(PosixError) {
        _ = try call("fchmod") { Glibc.fchmod(fd, mode) }
    }

    public static func fchown(_ fd: Int32, owner: uid_t, group: gid_t) throws(PosixError) {
        _ = try call("fchown") { Glibc.fchown(fd, owner, group) }
    }

    public static func fstatvfs(_ fd: Int32) throws(PosixError) -> statvfs {
        var st = statvfs()
        _ = try call("fstatvfs") { Glibc.fstatvfs(fd, &st) }
        return st
    }

    public static func isatty(_ fd: Int32) -> Bool { Glibc.isatty(fd) == 1 }

    // MARK: terminals

    /// tcgetattr(3): the settings of the terminal on `fd` (ENOTTY when it is not one).
    public static func terminalAttributes(_ fd: Int32) throws(PosixError) -> termios {
        var settings = termios()
        _ = try call("tcgetattr") { Glibc.tcgetattr(fd, &settings) }
        return settings
    }

    /// tcsetattr(3) with TCSANOW: the settings take effect at once.
    public static func setTerminalAttributes(_ fd: Int32, _ settings: termios) throws(PosixError) {
        var settings = settings
        _ = try call("tcsetattr") { Glibc.tcsetattr(fd, TCSANOW, &settings) }
    }

    // MARK: paths relative to a directory descriptor

    public static func openat(_ dirfd: Int32, _ path: String, flags: Int32, mode: mode_t = 0) throws(PosixError) -> Int32 {
        try call("openat") { Glibc.openat(dirfd, path, flags | O_CLOEXEC, mode) }
    }

    public static func renameat(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String) throws(PosixError) {
        _ = try call("renameat") { Glibc.renameat(fromDir, from, toDir, to) }
    }

    /// renameat2(2): with `noReplace`, fails with EEXIST instead of replacing what `to` names, atomically.
    public static func renameat2(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String, noReplace: Bool) throws(PosixError) {
        _ = try call("renameat2") { CLinux.renameat2(fromDir, from, toDir, to, noReplace ? FERRY_RENAME_NOREPLACE : 0) }
    }

    /// futimens(2) setting the modification time only; the access time is left as it is.
    public static func futimens(_ fd: Int32, modificationSeconds: Int64) throws(PosixError) {
        var times = [timespec(tv_sec: 0, tv_nsec: FERRY_UTIME_OMIT), timespec(tv_sec: time_t(modificationSeconds), tv_nsec: 0)]
        _ = try call("futimens") { Glibc.futimens(fd, &times) }
    }

    public static func unlinkat(_ dirfd: Int32, _ name: String, directory: Bool = false) throws(PosixError) {
        _ = try call("unlinkat") { Glibc.unlinkat(dirfd, name, directory ? AT_REMOVEDIR : 0) }
    }

    public static func mkdirat(_ dirfd: Int32, _ name: String, mode: mode_t) throws(PosixError) {
        _ = try call("mkdirat") { Glibc.mkdirat(dirfd, name, mode) }
    }

    public static func readlinkat(_ dirfd: Int32, _ name: String) throws(PosixError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try call("readlinkat") { Glibc.readlinkat(dirfd, name, &buffer, buffer.count - 1) }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: sockets

    public static func socket(domain: Int32, type: Int32) throws(PosixError) -> Int32 {
        try call("socket") { Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    public static func setsockopt(_ fd: Int32, level: Int32, name: Int32, value: Int32) throws(PosixError) {
        var value = value
        _ = try call("setsockopt") {
            Glibc.setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    public static func bind(_ fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t) throws(PosixError) {
        _ = try call("bind") { Glibc.bind(fd, address, length) }
    }

    public static func listen(_ fd: Int32, backlog: Int32) throws(PosixError) {
        _ = try call("listen") { Glibc.listen(fd, backlog) }
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec descriptor; `nil` when none is pending.
    public static func accept(_ fd: Int32, peer: UnsafeMutablePointer<sockaddr_storage>) throws(PosixError) -> Int32? {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return try peer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(PosixError) -> Int32? in
            guard let client = try callNonBlocking("accept", { Glibc.accept(fd, address, &length) }) else { return nil }
            // accept4 is not visible from Swift's Glibc; set the flags the listener's children need at once.
            _ = Glibc.fcntl(client, F_SETFD, FD_CLOEXEC)
            do throws(PosixError) {
                try fcntlSetNonBlocking(client)
            } catch {
                Glibc.close(client)
                throw error
            }
            return client
        }
    }

    /// Starts a non-blocking connect; returns false when it is still in progress.
    public static func connect(_ fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t) throws(PosixError) -> Bool {
        while true {
            if Glibc.connect(fd, address, length) == 0 { return true }
            let code = errno
            if code == EINTR { continue }
            if code == EINPROGRESS { return false }
            throw PosixError(code: code, function: "connect")
        }
    }

    /// sendto(2) of one datagram; nil when the send buffer is full (the datagram is not sent).
    public static func sendto(_ fd: Int32, from buffer: UnsafeRawBufferPointer, to address: UnsafePointer<sockaddr>,
                              length: socklen_t) throws(PosixError) -> Int? {
        try callNonBlocking("sendto") { Glibc.sendto(fd, buffer.baseAddress, buffer.count, 0, address, length) }
    }

    /// recvfrom(2) of one datagram with MSG_TRUNC: its whole length (more than `buffer.count` when the
    /// rest was cut off) and its source in `source`; nil when none is waiting.
    public static func recvfrom(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                                source: UnsafeMutablePointer<sockaddr_storage>) throws(PosixError) -> Int? {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return try source.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(PosixError) -> Int? in
            try callNonBlocking("recvfrom") {
                Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT), address, &length)
            }
        }
    }

    public static func socketError(_ fd: Int32) throws(PosixError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try call("getsockopt") { Glibc.getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value
    }

    public static func getsockname(_ fd: Int32) throws(PosixError) -> sockaddr_storage {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(PosixError) -> Int32 in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(PosixError) -> Int32 in
                try call("getsockname") { Glibc.getsockname(fd, address, &length) }
            }
        }
        return storage
    }

    public static func shutdown(_ fd: Int32) {
        // Only ever used to wake a blocked peer; ENOTCONN after the peer left is expected and harmless.
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    // MARK: process

    /// Makes a write to a closed socket fail with EPIPE instead of killing the process.
    public static func ignoreSIGPIPE() {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
    }

    /// Raises the soft limit on open descriptors to the hard limit; returns the new soft limit.
    @discardableResult
    public static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }

    /// Makes the allocator give memory back instead of keeping it for later: blocks of 1 MiB and more
    /// (chunk buffers) are mapped on their own and unmapped when freed, and at most four arenas serve
    /// the threads. Without this, glibc keeps a freed 4 MiB chunk buffer in each of up to 16 arenas,
    /// and a daemon serving 200 clients holds 300-450 MiB it no longer uses.
    public static func limitAllocatorRetention() {
        ferry_limit_allocator_retention(1 << 20, 4)
    }
}
