#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Turns SIGINT and SIGTERM into a call on a Dispatch queue, where ordinary code may run (unlike in a
/// signal handler). Set up here, in nonisolated code, so the handler never inherits the main actor.
public enum Signals {
    /// Dispatch sources may be used from any thread; this box keeps them alive in static state.
    private final class Sources: @unchecked Sendable {
        let sources: [any DispatchSourceSignal]
        init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    }
    private static let installed = Mutex<Sources?>(nil)

    /// Calls `handler` with the signal number each time SIGINT or SIGTERM arrives.
    public static func onTermination(_ handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "ferry.signals")
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            _ = signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { @Sendable in handler(number) }
            source.resume()
            return source
        }
        installed.withLock { $0 = Sources(sources) }
    }

    /// Ends the process at once with `status`, without running atexit handlers or flushing stdio.
    public static func exitImmediately(_ status: Int32) -> Never {
        _exit(status)
    }
}
