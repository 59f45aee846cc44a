import FerryPosix
import FerryWire

extension Session {
    /// `get`: a `file` header with size and MD5, then exactly that many bytes by sendfile(2).
    ///
    /// Only regular files are served; a FIFO or device is refused without ever blocking on it. A read
    /// error after the header has gone cannot be reported in band, so it ends the connection, which the
    /// client sees as a short body.
    func get(_ request: PathRequest, root: ShareRoot) throws {
        let path = try SharePath(parsing: request.path)
        guard !path.isRoot else { throw ErrorReply(.isDirectory, "is a directory") }
        let location = try root.locate(path, followFinal: true)
        let file: Descriptor
        let status: FileStatus
        do {
            file = try File.openForReading(location.name, in: location.parent)
            status = try FileStatus.of(file)
        } catch {
            throw ErrorReply(posix: error)
        }
        switch status.kind {
        case .file: break
        case .directory: throw ErrorReply(.isDirectory, "is a directory")
        default: throw ErrorReply(.permissionDenied, "not a regular file")
        }
        let started = ContinuousClock.now
        let size = UInt64(status.size)
        var lastNotice = started
        let md5 = try withChunkBuffer { buffer in
            do {
                return try server.digests.md5(of: file, status: status, buffer: buffer) { done in
                    // Hashing a large file takes a while: say so about once a second.
                    if ContinuousClock.now - lastNotice >= .seconds(1) {
                        lastNotice = .now
                        try reply(.preparing(Preparing(done: done, total: size)))
                    }
                }
            } catch let error as PosixError {
                throw ErrorReply(posix: error)
            }
        }
        try reply(.file(FileHeader(name: path.name, size: size, md5: md5, mtime: status.modificationTime)))
        try channel.sendBody(file: file, length: size, chunkSize: configuration.chunkSize, timeout: configuration.stallTimeout)
        logTransfer("get", path: location.path, bytes: size, md5: md5, since: started)
    }

    /// Runs `body` with a freshly allocated chunk-sized buffer: the only per-transfer memory.
    func withChunkBuffer<T, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: configuration.chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        return try body(buffer)
    }

    func logTransfer(_ command: String, path: SharePath, bytes: UInt64, md5: String, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let seconds = max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 1e-6)
        let rate = Double(bytes) / seconds / 1_048_576
        logger.info("\(command) \(path) \(bytes) bytes in \(elapsed.formattedSeconds) s (\(Int(rate)) MiB/s) md5 \(md5)")
    }
}
