import Synchronization

/// Where Ctrl-C goes while the shell runs: to the line being typed (which it drops) or to the transfer
/// in flight (which it stops, keeping the verified part for a resume). The process's signal thread
/// calls ``deliver()``; when nothing claims the interrupt the caller ends the process as before.
public enum Interrupts {
    private static let target = Mutex<(@Sendable () -> Void)?>(nil)

    /// Hands the next interrupts to `action` until ``clear()``.
    static func route(to action: @escaping @Sendable () -> Void) {
        target.withLock { $0 = action }
    }

    static func clear() {
        target.withLock { $0 = nil }
    }

    /// Runs the current target, if any; false when nothing claims the interrupt. The action runs under
    /// the lock, so it never reaches a target that has already been cleared.
    public static func deliver() -> Bool {
        target.withLock { action in
            guard let action else { return false }
            action()
            return true
        }
    }
}

/// Whether an interrupt arrived, set from the signal thread and read by the interrupted command.
final class InterruptFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
