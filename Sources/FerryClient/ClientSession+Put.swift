import FerryCrypto
import FerryPosix
import FerryWire

extension ClientSession {
    /// Uploads the local file `local` to `remote`: hashes it, announces name, size and MD5, and sends the
    /// body only once the server has said `ready` (so a refusal costs no bytes). Succeeds only when the
    /// server has verified, synced and renamed the file into place. With `options.preserve` the stored
    /// file keeps the local modification time.
    ///
    /// A server that offers chunk-verified transfers gets ``uploadChunked``: one read of the file, and
    /// resumable.
    public func upload(_ local: String, to remote: String, progress: (any TransferProgress)? = nil,
                       options: TransferOptions = TransferOptions()) throws(ClientError) -> TransferResult {
        limitRate(options.limitRate)
        let file: Descriptor
        let status: FileStatus
        do {
            file = try File.openForReading(path: local)
            status = try FileStatus.of(file)
        } catch {
            throw ClientError("\(local): \(error.reason)")
        }
        guard status.kind == .file else {
            throw ClientError("\(local): not a regular file")
        }
        let size = UInt64(status.size)
        let name = LocalDestination.fileName(forRemote: remote) ?? remote
        let mtime = uploadOptions(options).preserve ? status.modificationTime : nil
        if chunked {
            return try uploadChunked(file, size: size, name: name, to: remote, progress: progress, options: options, mtime: mtime)
        }
        let started = ContinuousClock.now

        progress?.begin(name: name, total: size, phase: "checksumming")
        let md5: String
        do {
            md5 = try hash(file, size: size, progress: progress)
        } catch {
            progress?.abandon()
            throw ClientError("cannot read \(local): \(error.reason)")
        }

        let answer: Message
        do { answer = try request(.put(PutRequest(path: remote, size: size, md5: md5, mtime: mtime))) } catch {
            progress?.abandon()
            throw error
        }
        guard case .ready = answer else { progress?.abandon(); throw unexpected(answer) }

        progress?.begin(name: name, total: size, phase: "sending")
        let stored: Message
        do {
            try channel.sendBody(file: file, length: size, chunkSize: chunkSize, timeout: timeout) { sent in
                progress?.update(done: sent)
            }
            stored = try receive()
        } catch let error as ClientError {
            progress?.abandon()
            throw error
        } catch {
            progress?.abandon()
            channel.socket.close()
            throw ClientError("\(ClientError(translating: error).message); the server kept nothing")
        }
        guard case .stored(let result) = stored else { progress?.abandon(); throw unexpected(stored) }
        let seconds = started.secondsElapsed
        progress?.finish(name: name, bytes: size, seconds: seconds)
        return TransferResult(bytes: size, md5: md5, seconds: seconds, path: result.path)
    }

    /// `options` as this server can honour them on an upload: `preserve` needs one that keeps the
    /// modification time sent (feature `manage`); without it the user is told, and the upload goes on
    /// without.
    func uploadOptions(_ options: TransferOptions) -> TransferOptions {
        guard options.preserve, !offers(Hello.manageFeature) else { return options }
        notices("the server cannot keep modification times (an older ferryd); what is put gets the time of its upload")
        var options = options
        options.preserve = false
        return options
    }

    private func hash(_ file: Descriptor, size: UInt64, progress: (any TransferProgress)?) throws(PosixError) -> String {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        let digest = Digest(.md5)
        var offset: Int64 = 0
        while UInt64(offset) < size {
            let count = try File.read(file, into: buffer, at: offset)
            if count == 0 { break }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            offset += Int64(count)
            progress?.update(done: UInt64(offset))
        }
        return digest.finalize().hexString
    }
}
