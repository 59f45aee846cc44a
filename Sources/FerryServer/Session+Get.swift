import FerryPosix
import FerryWire

extension Session {
    /// `get`: a `file` header with size and MD5, then exactly that many bytes by sendfile(2).
    ///
    /// Only regular files are served; a FIFO or device is refused without ever blocking on it. A read
    /// error after the header has gone cannot be reported in band, so it ends the connection, which the
    /// client sees as a short body.
    func get(_ request: PathRequest, root: ShareRoot) throws -> TransferSummary {
        let (path, location, file, status) = try openForServing(request.path, root: root)
        let size = UInt64(status.size)
        var lastNotice = ContinuousClock.now
        let md5 = try server.manifests.cached(file, status: status)?.md5?.hexString ?? withChunkBuffer { buffer in
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
        let header = FileHeader(name: path.name, size: size, md5: md5, mtime: status.modificationTime)
        if size <= UInt64(configuration.chunkSize) {
            try sendSmall(header, from: file)
        } else {
            try reply(.file(header))
            try channel.sendBody(file: file, length: size, chunkSize: configuration.chunkSize, timeout: configuration.stallTimeout)
        }
        return TransferSummary(path: location.path, bytes: size, md5: md5)
    }

    /// Opens the regular file a `get` or `fetch` names, refusing directories, FIFOs and devices without
    /// ever blocking on them.
    func openForServing(_ raw: String, root: ShareRoot) throws -> (SharePath, ShareRoot.Location, Descriptor, FileStatus) {
        let path = try SharePath(parsing: raw)
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
        case .file: return (path, location, file, status)
        case .directory: throw ErrorReply(.isDirectory, "is a directory")
        default: throw ErrorReply(.permissionDenied, "not a regular file")
        }
    }

    /// A body of at most one chunk goes out with its header in a single write: one system call and one
    /// wake-up of the client per small file instead of two. The body is read before anything is sent,
    /// so a file that shrank since its size was taken still gets a proper error.
    private func sendSmall(_ header: FileHeader, from file: Descriptor) throws {
        try withChunkBuffer { buffer in
            let body = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(header.size)])
            let count: Int
            do throws(PosixError) { count = try File.read(file, into: body, at: 0) } catch { throw ErrorReply(posix: error) }
            guard count == body.count else {
                throw ErrorReply(.internal, "the file shrank while being read; try again")
            }
            try channel.send(.file(header), body: UnsafeRawBufferPointer(body), timeout: configuration.stallTimeout)
        }
    }

    /// Runs `body` with a freshly allocated chunk-sized buffer: the only per-transfer memory.
    func withChunkBuffer<T, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: configuration.chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        return try body(buffer)
    }

}

/// What a finished transfer moved, for the logs.
struct TransferSummary {
    let path: SharePath
    let bytes: UInt64
    let md5: String
}

extension Session {
    /// Runs a get or put, then logs it, finished or failed: a line in the log and, when configured, a
    /// JSON record in the transfer log. Errors are rethrown unchanged.
    func transfer(_ command: String, _ requestedPath: String, _ body: () throws -> TransferSummary) throws {
        let started = ContinuousClock.now
        let wallClock = server.transferLog == nil ? "" : TransferLog.timestamp()
        var summary: TransferSummary?
        var result = "ok"
        server.status.transferStarted()
        defer { server.status.transferEnded() }
        defer {
            let elapsed = ContinuousClock.now - started
            let (seconds, attoseconds) = elapsed.components
            let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
            let bytes = summary?.bytes ?? 0
            let path = summary?.path.description ?? requestedPath
            if result == "ok" {
                let rate = Double(bytes) / max(Double(milliseconds) / 1000, 1e-3) / 1_048_576
                logger.info("\(command) \(path) \(bytes) bytes in \(elapsed.formattedSeconds) s (\(Int(rate)) MiB/s) md5 \(summary?.md5 ?? "")")
            }
            server.transferLog?.append(TransferLog.Record(
                time: wallClock, address: handle.address, user: user?.name ?? "", command: command, path: path,
                bytes: bytes, durationMs: milliseconds, result: result, md5: summary?.md5
            ))
        }
        do {
            summary = try body()
        } catch let refusal as ErrorReply {
            result = refusal.code.rawValue
            throw refusal
        } catch {
            result = "failed: \(error)"
            throw error
        }
    }
}
