#if canImport(Glibc)
import Glibc
#endif
import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

extension Session {
    /// `put`: checks everything that can be checked before a byte moves (permission, path, what is there
    /// now, space), answers `ready`, receives the body into a hidden temporary file while hashing it,
    /// and only when size and MD5 match, gives it the client's modification time (if sent), fsyncs it
    /// and renames it over the final name. Until that rename an existing file of that name is
    /// untouched; on any failure the temporary file is removed.
    func put(_ request: PutRequest, root: ShareRoot) throws -> TransferSummary {
        let (user, path) = try uploader(request.path, size: request.size)
        guard let expectedMD5 = [UInt8](hexString: request.md5), expectedMD5.count == 16 else {
            throw ErrorReply(.badRequest, "md5 must be 32 hex digits")
        }
        let location = try root.locate(path, followFinal: false)
        let target = location.path
        let replacing = try replaceableSize(location)
        let available: UInt64
        do { available = try File.availableSpace(in: location.parent) } catch { throw ErrorReply(posix: error) }
        guard request.size <= available else {
            throw ErrorReply(.tooLarge, "\(request.size) bytes do not fit in the \(available) bytes free on the server")
        }
        let reservation = try user.quota.map { quota throws(ErrorReply) in
            try server.quotas.reserve(size: request.size, replacing: replacing, in: root, quota: quota)
        }
        let temporaryName = TemporaryFile.makeName()
        let temporary: Descriptor
        do {
            temporary = try File.createExclusive(temporaryName, in: location.parent)
            // Held until the put ends: an rm of the directory sees that an upload is writing here.
            _ = try File.tryLock(temporary)
        } catch {
            throw ErrorReply(posix: error)
        }
        var renamed = false
        defer {
            if !renamed { try? File.remove(temporaryName, in: location.parent) }
        }

        try reply(.ready)
        // After a failed write the rest of the body is still read, so the stream stays in step and
        // the client gets a proper error instead of a reset.
        let received = try BodyReceiver.receive(
            from: channel, length: request.size, into: temporary,
            chunkSize: configuration.chunkSize, timeout: configuration.stallTimeout
        )
        if let writeError = received.writeError { throw ErrorReply(posix: writeError) }
        let md5 = expectedMD5.hexString
        guard received.md5 == expectedMD5 else {
            throw ErrorReply(.checksumMismatch, "received data has MD5 \(received.md5.hexString), not \(md5); nothing was stored")
        }
        do {
            if let mtime = request.mtime { try File.setModificationTime(temporary, seconds: mtime) }
            try File.sync(temporary)
            let replaced = try replaceableSize(location)
            try File.rename(temporaryName, to: location.name, in: location.parent)
            renamed = true
            if let reservation {
                reservation.commit(stored: request.size, replaced: replaced)
            } else {
                server.quotas.recordUpload(in: root, stored: request.size, replaced: replaced)
            }
            try File.syncDirectory(location.parent)
            if let status = try? FileStatus.of(temporary) {
                server.forgetDigests(of: status)
                server.digests.store(md5, for: status)
            }
        } catch let error as PosixError {
            throw ErrorReply(posix: error)
        }
        try reply(.stored(Stored(path: target.description, size: request.size, md5: md5)))
        return TransferSummary(path: target, md5: md5)
    }

    /// The checks every upload starts with, `put` or `upload`: a user who may write, a path that is not
    /// the root, a size that fits a file offset.
    func uploader(_ raw: String, size: UInt64) throws(ErrorReply) -> (UserRecord, SharePath) {
        let user = try writingUser()
        let path = try SharePath(parsing: raw)
        guard !path.isRoot else { throw ErrorReply(.isDirectory, "is a directory") }
        guard size <= UInt64(Int64.max) else { throw ErrorReply(.tooLarge, "size out of range") }
        return (user, path)
    }

    /// Only a regular file (or nothing) may be replaced: never a directory, symlink, FIFO or device.
    /// Returns the size of the file that would be replaced, 0 if there is none.
    func replaceableSize(_ location: ShareRoot.Location) throws(ErrorReply) -> UInt64 {
        let status: FileStatus
        do {
            status = try FileStatus.of(location.name, in: location.parent)
        } catch {
            if error.code == ENOENT { return 0 }
            throw ErrorReply(posix: error)
        }
        switch status.kind {
        case .file: return UInt64(max(status.size, 0))
        case .directory: throw ErrorReply(.isDirectory, "is a directory")
        case .symlink: throw ErrorReply(.permissionDenied, "is a symlink; refusing to replace it")
        default: throw ErrorReply(.permissionDenied, "not a regular file")
        }
    }
}
