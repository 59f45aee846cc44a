#if canImport(Glibc)
import Glibc
#endif

extension Posix {
    /// Puts the calling thread to sleep for `duration` with clock_nanosleep(2) on the monotonic clock:
    /// no busy waiting, and a signal handled meanwhile does not cut the sleep short (the time left is
    /// slept after it). Zero or less returns at once.
    public static func sleep(for duration: Duration) {
        guard duration > .zero else { return }
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        // clock_nanosleep returns the error number itself; only EINTR is possible with these arguments.
        while clock_nanosleep(CLOCK_MONOTONIC, 0, &request, &remaining) == EINTR {
            request = remaining
        }
    }
}
