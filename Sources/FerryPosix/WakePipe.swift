/// A pipe that wakes a thread waiting in poll(2): any thread (a signal thread included) calls
/// ``wake()``, which only write(2)s one byte and never blocks, and the waiter sees ``readEnd``
/// readable. Bytes left from an earlier wake are thrown away with ``drain()``.
public final class WakePipe: Sendable {
    private let reader: Descriptor
    private let writer: Descriptor

    public init() throws(PosixError) {
        let ends = try Posix.pipe()
        reader = Descriptor(ends.read)
        writer = Descriptor(ends.write)
        try Posix.fcntlSetNonBlocking(ends.read)
        try Posix.fcntlSetNonBlocking(ends.write)
    }

    /// The descriptor to poll for input.
    public var readEnd: Int32 { reader.rawValue }

    /// Makes ``readEnd`` readable. A full pipe is already readable, so a write that would block is
    /// simply skipped.
    public func wake() {
        var byte: UInt8 = 1
        _ = withUnsafeBytes(of: &byte) { try? Posix.write(writer.rawValue, from: $0) }
    }

    /// Reads every waiting byte; true when there was at least one (a wake since the last drain).
    @discardableResult
    public func drain() -> Bool {
        var woken = false
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { (try? Posix.read(reader.rawValue, into: $0)) ?? nil }
            guard let count, count > 0 else { return woken }
            woken = true
        }
    }
}
