#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Foundation

/// Turns SIGINT and SIGTERM into a call on a thread of their own, where ordinary code may run (unlike
/// in a signal handler).
///
/// A small C handler writes the signal's number to a pipe (the self-pipe trick) and a thread reads it.
/// Whichever thread the kernel interrupts, nothing is lost: a signal that arrives before the reader
/// is waiting leaves its byte in the pipe. (A Dispatch signal source, used before, could miss a
/// SIGTERM sent right after start-up, and ferryd then never stopped.)
public enum Signals {
    /// Calls `handler` with the signal number each time SIGINT or SIGTERM arrives. Call it from the
    /// main thread, early: it unblocks the two signals there (a process may start with them blocked,
    /// inherited from whoever spawned it), and threads started afterwards inherit that.
    public static func onTermination(_ handler: @escaping @Sendable (Int32) -> Void) {
        let descriptor = [SIGINT, SIGTERM].map { ferry_signal_pipe($0) }.max() ?? -1
        guard descriptor >= 0 else { return } // the default action (ending the process) stays
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        _ = pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let thread = Thread {
            let byte = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
            defer { byte.deallocate() }
            // The pipe blocks: nil (would block) cannot come; an error or its end stops the thread.
            while let count = try? Posix.read(descriptor, into: byte), count == 1 {
                handler(Int32(byte[0]))
            }
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Ends the process at once with `status`, without running atexit handlers or flushing stdio.
    public static func exitImmediately(_ status: Int32) -> Never {
        _exit(status)
    }
}
