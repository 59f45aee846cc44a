#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Foundation
import Synchronization

/// Turns signals (SIGINT and SIGTERM to stop, SIGHUP to reload) into calls on a thread of their own,
/// where ordinary code may run (unlike in a signal handler).
///
/// A small C handler writes the signal's number to a pipe (the self-pipe trick) and one thread reads
/// it and calls the handler registered for that number. Whichever thread the kernel interrupts,
/// nothing is lost: a signal that arrives before the reader is waiting leaves its byte in the pipe.
/// (A Dispatch signal source, used before, could miss a SIGTERM sent right after start-up, and ferryd
/// then never stopped.) Handlers run one at a time, in the order the signals came.
public enum Signals {
    private struct Registry {
        var handlers: [Int32: @Sendable (Int32) -> Void] = [:]
        var reading = false
    }
    private static let registry = Mutex(Registry())

    /// Calls `handler` with the signal's number each time one of `signals` arrives, in place of the
    /// default action (for SIGINT, SIGTERM and SIGHUP, ending the process). A later call for the same
    /// signal replaces its handler. Call it from the main thread, early: it unblocks the signals there
    /// (a process may start with them blocked, inherited from whoever spawned it), and threads started
    /// afterwards inherit that.
    public static func on(_ signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) {
        // The handler is in place before the first byte can come.
        registry.withLock { registry in
            for signal in signals { registry.handlers[signal] = handler }
        }
        var descriptor: Int32 = -1
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals {
            let read = ferry_signal_pipe(signal)
            guard read >= 0 else {
                // The default action stays for this one.
                _ = registry.withLock { $0.handlers.removeValue(forKey: signal) }
                continue
            }
            descriptor = read
            sigaddset(&set, signal)
        }
        guard descriptor >= 0 else { return }
        _ = pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let start = registry.withLock { registry -> Bool in
            defer { registry.reading = true }
            return !registry.reading
        }
        if start { startReading(descriptor) }
    }

    /// Calls `handler` with the signal number each time SIGINT or SIGTERM arrives.
    public static func onTermination(_ handler: @escaping @Sendable (Int32) -> Void) {
        on([SIGINT, SIGTERM], handler)
    }

    /// Calls `handler` each time SIGHUP arrives: by convention, "read your configuration again".
    public static func onHangup(_ handler: @escaping @Sendable () -> Void) {
        on([SIGHUP]) { _ in handler() }
    }

    /// The one thread that reads the pipe (shared by every signal) and runs the handlers.
    private static func startReading(_ descriptor: Int32) {
        let thread = Thread {
            let byte = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
            defer { byte.deallocate() }
            // The pipe blocks: nil (would block) cannot come; an error or its end stops the thread.
            while let count = try? Posix.read(descriptor, into: byte), count == 1 {
                let signal = Int32(byte[0])
                let handler = registry.withLock { $0.handlers[signal] }
                handler?(signal)
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
