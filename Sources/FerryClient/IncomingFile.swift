import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

/// A download body on its way to disk: a hidden temporary file beside the final name, owned here from
/// creation until it is either renamed into place (``commit()``) or removed (anything else, including
/// being dropped). While it exists its path is registered with ``PartialFiles``, so Ctrl-C removes it too.
final class IncomingFile {
    let directory: Descriptor
    let directoryPath: String
    let name: String
    let temporaryName: String
    private(set) var file: Descriptor?
    private var committed = false

    var path: String { directoryPath == "/" ? "/" + name : directoryPath + "/" + name }
    private var temporaryPath: String { directoryPath + "/" + temporaryName }

    /// Creates the temporary file for `name` in `directory` (opened at `directoryPath`).
    init(name: String, in directory: Descriptor, directoryPath: String) throws(PosixError) {
        self.directory = directory
        self.directoryPath = directoryPath
        self.name = name
        temporaryName = "." + name.prefix(200) + ".ferry-" + SecureRandom.bytes(6).hexString + ".part"
        file = try File.createExclusive(temporaryName, in: directory)
        PartialFiles.register(directoryPath + "/" + temporaryName)
    }

    /// Receives `header.size` bytes from `channel` into the file while hashing them, and checks them
    /// against the header. Connection failures are thrown as they are (the channel is then unusable);
    /// a write failure or a checksum mismatch is a ``ClientError`` after which the stream is still in step.
    func receive(
        _ header: FileHeader, from channel: MessageChannel, chunkSize: Int, timeout: Duration,
        progress: (UInt64) -> Void
    ) throws {
        guard let expected = [UInt8](hexString: header.md5), expected.count == 16 else {
            // Not a ClientError: the body that follows was not read, so the stream is out of step.
            throw InvalidHeader(description: "server sent an invalid MD5 \"\(header.md5)\"")
        }
        guard let file else { preconditionFailure("receive after commit") }
        let received = try BodyReceiver.receive(
            from: channel, length: header.size, into: file, chunkSize: chunkSize, timeout: timeout, progress: progress
        )
        if let writeError = received.writeError {
            throw ClientError("cannot write \(path): \(writeError.reason); nothing was saved")
        }
        guard received.md5 == expected else {
            throw ClientError("checksum mismatch: received MD5 \(received.md5.hexString), server announced \(header.md5); nothing was saved",
                              code: .checksumMismatch)
        }
    }

    /// Closes the temporary file, leaving it on disk for a later ``commit(syncing:)``: a batch of
    /// downloads waiting to be committed together should not hold one descriptor each.
    func close() { file = nil }

    /// Renames the verified bytes to the final name, first making them durable with an fsync unless
    /// the caller already did (``CommitBatch`` syncs a whole batch at once).
    func commit(syncing: Bool = true) throws(ClientError) {
        do {
            if syncing, let file { try File.sync(file) }
            file = nil
            try File.rename(temporaryName, to: name, in: directory)
            committed = true
            PartialFiles.unregister(temporaryPath)
        } catch {
            throw ClientError("cannot save \(path): \(error.reason)")
        }
    }

    deinit {
        if !committed {
            try? File.remove(temporaryName, in: directory)
            PartialFiles.unregister(temporaryPath)
        }
    }
}

/// A `file` header the client cannot use; the connection has to be dropped.
struct InvalidHeader: Error, CustomStringConvertible {
    let description: String
}
