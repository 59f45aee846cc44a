import Synchronization

/// The uploads to object storage this ferryd is serving now, by key and size, so that a second `upload`
/// of the same file to the same path is answered `busy` (as on a local root, where a lock on the partial
/// does it) until the first one ends and leaves its ``S3UploadRecord`` to resume from: a client that
/// lost its connection without the server noticing yet waits for its own parts instead of sending the
/// file again. Per node: uploads on other nodes over the same bucket are not seen (docs/STORAGE.md).
final class S3UploadsInProgress: Sendable {
    private let running = Mutex<Set<String>>([])

    /// Marks an upload of `size` bytes to `key` as running; false when one already is.
    func begin(key: String, size: UInt64) -> Bool {
        running.withLock { $0.insert("\(size) \(key)").inserted }
    }

    /// Marks it ended.
    func end(key: String, size: UInt64) {
        _ = running.withLock { $0.remove("\(size) \(key)") }
    }
}
