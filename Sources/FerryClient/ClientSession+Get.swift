import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

/// What a finished, verified transfer moved.
public struct TransferResult: Sendable, Equatable {
    /// Bytes moved over the connection by this attempt.
    public let bytes: UInt64
    /// The file's MD5 when known ("" when the server had not computed it and none was asked for).
    public let md5: String
    public let seconds: Double
    /// Where the file now is: a local path for get, a remote path for put.
    public let path: String
    /// The file's content hash, after a chunk-verified transfer.
    public var contentHash: String? = nil
    /// Bytes an earlier attempt had already put in place, taken up by this one.
    public var resumedBytes: UInt64 = 0
}

extension ClientSession {
    /// Downloads `remote` to `destination`. The body is written to a hidden temporary file beside the
    /// destination while it is hashed; only when size and MD5 match the server's header is it synced and
    /// renamed to the final name (with `options.preserve`, first given the server's modification time
    /// and mode). On any failure the temporary file is removed and an existing file of that name is
    /// untouched.
    ///
    /// A server that offers chunk-verified transfers gets ``downloadChunked``: verified chunk by chunk,
    /// and resumable.
    public func download(_ remote: String, to destination: LocalDestination, progress: (any TransferProgress)? = nil,
                         options: TransferOptions = TransferOptions()) throws(ClientError) -> TransferResult {
        limitRate(options.limitRate)
        let directory: Descriptor
        do { directory = try File.openDirectory(path: destination.directory) } catch {
            throw ClientError("\(destination.directory): \(error.reason)")
        }
        if let existing = try? FileStatus.of(destination.name, in: directory), existing.kind == .directory {
            throw ClientError("\(destination.path): is a directory")
        }
        // With preserve the mode comes from the server's entry; the time from the transfer itself.
        let mode = options.preserve ? try stat(remote).mode : nil
        if chunked {
            return try downloadChunked(remote, to: destination, directory: directory, progress: progress, options: options, mode: mode)
        }
        try send(.get(PathRequest(path: remote)))
        var message = try receive()
        var announced = false
        while case .preparing(let preparing) = message {
            // The server is hashing a large file it has not hashed before.
            if !announced {
                progress?.begin(name: destination.name, total: preparing.total, phase: "server checksumming")
                announced = true
            }
            progress?.update(done: preparing.done)
            message = try receive()
        }
        guard case .file(let header) = message else { throw unexpected(message) }

        let incoming: IncomingFile
        do {
            incoming = try IncomingFile(name: destination.name, in: directory, directoryPath: destination.directory)
        } catch {
            // The body is already on its way; this connection cannot be used for anything else now.
            channel.socket.close()
            throw ClientError("cannot write in \(destination.directory): \(error.reason)")
        }
        let started = ContinuousClock.now
        progress?.begin(name: destination.name, total: header.size, phase: "receiving")
        do {
            try incoming.receive(header, from: channel, chunkSize: chunkSize, timeout: timeout) { done in progress?.update(done: done) }
            if let attributes = options.attributes(mtime: header.mtime, mode: mode), let file = incoming.file {
                try attributes.apply(to: file, path: destination.path)
            }
            try incoming.commit()
        } catch let error as ClientError {
            progress?.abandon()
            throw error
        } catch {
            progress?.abandon()
            channel.socket.close()
            throw ClientError("\(ClientError(translating: error).message); nothing was saved")
        }
        let seconds = started.secondsElapsed
        progress?.finish(name: destination.name, bytes: header.size, seconds: seconds)
        return TransferResult(bytes: header.size, md5: header.md5, seconds: seconds, path: destination.path)
    }
}

extension ContinuousClock.Instant {
    var secondsElapsed: Double {
        let elapsed = ContinuousClock.now - self
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
