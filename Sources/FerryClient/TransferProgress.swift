/// Receives a transfer's progress. The client library calls it; the `ferry` tool draws it.
public protocol TransferProgress: AnyObject {
    /// A phase of a transfer of `total` bytes named `name` begins: "checksumming" while a local file is
    /// hashed before upload, "server checksumming" while the server hashes before a download, then
    /// "sending" or "receiving".
    func begin(name: String, total: UInt64, phase: String)
    /// As ``begin(name:total:phase:)`` for a transfer that resumes with `already` bytes in place: the
    /// bar starts there, and the rate and ETA count only what moves from now on.
    func begin(name: String, total: UInt64, phase: String, already: UInt64)
    /// `done` bytes of the current phase are through.
    func update(done: UInt64)
    /// The transfer finished and was verified.
    func finish(name: String, bytes: UInt64, seconds: Double)
    /// As ``finish(name:bytes:seconds:)``, saying how the bytes were checked ("MD5 verified" by default).
    func finish(name: String, bytes: UInt64, seconds: Double, check: String)
    /// The transfer failed; the line drawn so far should be cleared.
    func abandon()
    /// The name shown changes, the rest goes on (a tree's "12/40 files").
    func relabel(_ name: String)
}

/// Passes the bytes done of one transfer to a closure: a file of a tree reports into the tree's line.
final class ForwardingProgress: TransferProgress {
    private let forward: (UInt64) -> Void
    private var already: UInt64 = 0
    init(_ forward: @escaping (UInt64) -> Void) { self.forward = forward }
    func begin(name: String, total: UInt64, phase: String) {}
    func begin(name: String, total: UInt64, phase: String, already: UInt64) { self.already = already }
    func update(done: UInt64) { forward(done - min(done, already)) }
    func finish(name: String, bytes: UInt64, seconds: Double) {}
    func abandon() {}
    func relabel(_ name: String) {}
}

extension TransferProgress {
    public func begin(name: String, total: UInt64, phase: String, already: UInt64) {
        begin(name: name, total: total, phase: phase)
        update(done: already)
    }

    public func finish(name: String, bytes: UInt64, seconds: Double, check: String) {
        finish(name: name, bytes: bytes, seconds: seconds)
    }

    public func relabel(_ name: String) {}
}
