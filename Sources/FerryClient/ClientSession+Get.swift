import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

/// What a finished, verified transfer moved.
public struct TransferResult: Sendable, Equatable {
    public let bytes: UInt64
    public let md5: String
    public let seconds: Double
    /// Where the file now is: a local path for get, a remote path for put.
    public let path: String
}

extension ClientSession {
    /// Downloads `remote` to `destination`. The body is written to a hidden temporary file beside the
    /// destination while it is hashed; only when size and MD5 match the server's header is it synced and
    /// renamed to the final name. On any failure the temporary file is removed and an existing file of
    /// that name is untouched.
    public func download(_ remote: String, to destination: LocalDestination, progress: (any TransferProgress)? = nil) throws(ClientError) -> TransferResult {
        let directory: Descriptor
        do { directory = try File.openDirectory(path: destination.directory) } catch {
            throw ClientError("\(destination.directory): \(error.reason)")
        }
        if let existing = try? FileStatus.of(destination.name, in: directory), existing.kind == .directory {
            throw ClientError("\(destination.path): is a directory")
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
        guard let expected = [UInt8](hexString: header.md5), expected.count == 16 else {
            throw ClientError("server sent an invalid MD5 \"\(header.md5)\"")
        }

        let temporaryName = "." + destination.name.prefix(200) + ".ferry-" + SecureRandom.bytes(6).hexString + ".part"
        let temporaryPath = destination.directory + "/" + temporaryName
        let file: Descriptor
        do {
            file = try File.createExclusive(temporaryName, in: directory)
        } catch {
            // The body is already on its way; this connection cannot be used for anything else now.
            channel.socket.close()
            throw ClientError("cannot write in \(destination.directory): \(error.reason)")
        }
        PartialFiles.register(temporaryPath)
        var kept = false
        defer {
            if !kept { try? File.remove(temporaryName, in: directory) }
            PartialFiles.unregister(temporaryPath)
        }

        let started = ContinuousClock.now
        progress?.begin(name: destination.name, total: header.size, phase: "receiving")
        let received: BodyReceiver.Outcome
        do {
            received = try BodyReceiver.receive(
                from: channel, length: header.size, into: file, chunkSize: chunkSize, timeout: timeout
            ) { done in progress?.update(done: done) }
        } catch {
            progress?.abandon()
            channel.socket.close()
            throw ClientError("\(ClientError(translating: error).message); nothing was saved")
        }
        if let writeError = received.writeError {
            progress?.abandon()
            throw ClientError("cannot write \(destination.path): \(writeError.reason); nothing was saved")
        }
        let md5 = received.md5
        guard md5 == expected else {
            progress?.abandon()
            throw ClientError("checksum mismatch: received MD5 \(md5.hexString), server announced \(header.md5); nothing was saved",
                              code: .checksumMismatch)
        }
        do {
            try File.sync(file)
            try File.rename(temporaryName, to: destination.name, in: directory)
            kept = true
        } catch {
            progress?.abandon()
            throw ClientError("cannot save \(destination.path): \(error.reason)")
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
