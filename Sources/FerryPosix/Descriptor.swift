#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Owns one file descriptor: the only place it is closed, exactly once, at `close()` or at deinit.
///
/// `shutdownSocket()` may be called from another thread to wake a blocked reader; the lock makes sure
/// that never touches a number the kernel has already handed to someone else.
public final class Descriptor: Sendable {
    private let state: Mutex<Int32>

    /// Takes ownership of `fd`.
    public init(_ fd: Int32) {
        precondition(fd >= 0, "invalid descriptor")
        state = Mutex(fd)
    }

    deinit { close() }

    /// The descriptor number, for a system call made by the owner; -1 once closed.
    public var rawValue: Int32 { state.withLock { $0 } }

    public var isOpen: Bool { rawValue >= 0 }

    public func close() {
        let fd = state.withLock { fd -> Int32 in
            let old = fd
            fd = -1
            return old
        }
        if fd >= 0 { Posix.close(fd) }
    }

    /// shutdown(2) both directions if still open: a thread blocked on it sees EOF or an error at once.
    public func shutdownSocket() {
        state.withLock { fd in
            if fd >= 0 { Posix.shutdown(fd) }
        }
    }
}
