/// Receives a transfer's progress. The client library calls it; the `ferry` tool draws it.
public protocol TransferProgress: AnyObject {
    /// A phase of a transfer of `total` bytes named `name` begins: "checksumming" while a local file is
    /// hashed before upload, "server checksumming" while the server hashes before a download, then
    /// "sending" or "receiving".
    func begin(name: String, total: UInt64, phase: String)
    /// `done` bytes of the current phase are through.
    func update(done: UInt64)
    /// The transfer finished and was verified.
    func finish(name: String, bytes: UInt64, seconds: Double)
    /// The transfer failed; the line drawn so far should be cleared.
    func abandon()
}
