import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

/// How a get or put goes about it.
public struct TransferOptions: Sendable {
    /// Take up an earlier attempt's verified chunks (a download's partial, an upload's on the server).
    public var resume = true
    /// Check the whole file's MD5 too, besides every chunk's SHA-256 and the content hash.
    public var md5 = false
    /// Keep the modification time (`put -p`, `get -p`; an upload only to a server that offers `manage`)
    /// and, on a download, the permission bits (masked to 0777).
    public var preserve = false
    /// Bytes per second the file data may move at, at most (`--limit-rate`); nil for no limit.
    public var limitRate: UInt64?
    public init(resume: Bool = true, md5: Bool = false, preserve: Bool = false, limitRate: UInt64? = nil) {
        self.resume = resume
        self.md5 = md5
        self.preserve = preserve
        self.limitRate = limitRate
    }
}

extension ClientSession {
    /// Times a transfer asks again for chunks that failed their digest before giving up.
    static let chunkRetries = 2

    /// Downloads `remote` chunk by chunk (feature `chunks`): every chunk is checked against the
    /// server's manifest as it lands in `.NAME.ferrypart`, and the file is renamed into place only when
    /// all are there and the content hash (and MD5, with `options.md5`) agree. A cut leaves the partial
    /// for the next attempt, which fetches only the chunks it lacks; if the server's file changed
    /// meanwhile, it starts over, never mixing the two.
    ///
    /// With `options.preserve` the file gets the manifest's modification time and `mode` (the server's
    /// permission bits, when known) before it is renamed into place.
    func downloadChunked(_ remote: String, to destination: LocalDestination, directory: Descriptor,
                         progress: (any TransferProgress)?, options: TransferOptions, mode: UInt32? = nil) throws(ClientError) -> TransferResult {
        let partial = DownloadPartial(name: destination.name, in: directory, directoryPath: destination.directory)
        let started = ContinuousClock.now
        var manifest: RemoteManifest
        var kept: [Int: [UInt8]] = [:]
        // Whether the first request already asked for every chunk (a fresh download: one round trip).
        var requestedAll = false
        // The chunks kept from an earlier attempt, hashed again while the missing ones arrive.
        var check: ChunkCheck?
        if options.resume, let record = try partial.existing() {
            manifest = try self.manifest(of: remote, md5: options.md5, progress: progress, label: destination.name)
            if record.contentHash?.hexString == manifest.contentHash && record.size == manifest.size {
                kept = partial.claimedChunks(of: manifest)
                if let file = partial.file { check = ChunkCheck(file, size: manifest.size, claims: kept) }
                let keptBytes = ChunkGrid.bytes(of: kept.keys, fileSize: manifest.size)
                notices("resuming \(destination.name): \(ByteFormat.size(keptBytes)) of \(ByteFormat.size(manifest.size)) already verified")
            } else {
                notices("\(destination.name) changed on the server since the partial download began; starting over")
                try partial.start(manifest)
            }
        } else if options.resume, let existing = try? File.openForReading(destination.name, in: directory),
                  (try? FileStatus.of(existing))?.kind == .file {
            // A file of that name is here already: the manifest first, and nothing more if it is the same.
            manifest = try self.manifest(of: remote, md5: options.md5, progress: progress, label: destination.name)
            let digests = localDigests ?? LocalDigests(path: nil)
            if let local = try? digests.digests(of: existing, md5: options.md5), local.contentHash == manifest.contentHash,
               !options.md5 || local.md5 == manifest.md5 {
                if let attributes = options.attributes(mtime: manifest.mtime, mode: mode) {
                    try attributes.apply(to: existing, path: destination.path)
                }
                notices("\(destination.name) is here already with the same content; nothing to fetch")
                return TransferResult(bytes: 0, md5: manifest.md5 ?? "", seconds: started.secondsElapsed, path: destination.path,
                                      contentHash: manifest.contentHash, resumedBytes: manifest.size)
            }
            try partial.start(manifest)
        } else {
            if !options.resume { partial.discard() }
            try send(.fetch(FetchRequest(path: remote, md5: options.md5 ? true : nil)))
            manifest = try receiveManifest(progress: progress, label: destination.name)
            do { try partial.start(manifest) } catch {
                // The chunks are already on their way; this connection cannot be used for anything else.
                channel.socket.close()
                throw error
            }
            requestedAll = true
        }

        let keptBytes = ChunkGrid.bytes(of: kept.keys, fileSize: manifest.size)
        progress?.begin(name: destination.name, total: manifest.size, phase: "receiving", already: keptBytes)
        var done = keptBytes
        var moved: UInt64 = 0
        var damagedBytes: UInt64 = 0
        /// Waits for the check of the kept chunks, if one runs; those that failed it are missing again.
        func settleCheck() {
            guard let confirmed = check?.wait() else { return }
            check = nil
            let damaged = kept.keys.filter { confirmed[$0] == nil }.sorted()
            for index in damaged {
                kept[index] = nil
                try? partial.record?.forget(index)
                let length = UInt64(ChunkGrid.length(of: index, fileSize: manifest.size))
                done -= length
                damagedBytes += length
            }
            if !damaged.isEmpty {
                notices("chunks \(ChunkRange.describe(damaged)) of \(destination.name) were damaged on disk; fetching them again")
            }
        }
        do throws(ClientError) {
            var round = 0
            while true {
                var missing = (0..<manifest.chunks.count).filter { kept[$0] == nil }
                if missing.isEmpty {
                    settleCheck()
                    missing = (0..<manifest.chunks.count).filter { kept[$0] == nil }
                    if missing.isEmpty { break }
                }
                guard round <= Self.chunkRetries else {
                    throw ClientError("chunks \(ChunkRange.describe(missing)) of \(destination.name) failed verification \(round) times; the verified rest is kept for a later attempt",
                                      code: .checksumMismatch)
                }
                if !requestedAll {
                    try send(.fetch(FetchRequest(path: remote, chunks: ChunkRange.ranges(of: missing), expect: manifest.contentHash, manifest: false)))
                }
                requestedAll = false
                guard let record = partial.record, let file = partial.file else { preconditionFailure("no partial") }
                let outcome = try receiveChunks(missing, manifest: manifest, into: file, record: record) { count in
                    done += UInt64(count)
                    moved += UInt64(count)
                    progress?.update(done: done)
                }
                if let writeError = outcome.writeError {
                    throw ClientError("cannot write \(partial.dataPath): \(writeError.reason)")
                }
                settleCheck()
                kept.merge(outcome.verified) { _, new in new }
                for index in outcome.mismatched { done -= UInt64(ChunkGrid.length(of: index, fileSize: manifest.size)) }
                if !outcome.mismatched.isEmpty {
                    notices("chunks \(ChunkRange.describe(outcome.mismatched)) of \(destination.name) did not match their digest; fetching them again")
                }
                round += 1
            }
            if options.md5 {
                try checkMD5(partial, manifest: manifest)
            }
            if let attributes = options.attributes(mtime: manifest.mtime, mode: mode), let file = partial.file {
                try attributes.apply(to: file, path: destination.path)
            }
            if let file = partial.file, let status = try? FileStatus.of(file) {
                localDigests?.store(LocalDigests.Digests(contentHash: manifest.contentHash, md5: options.md5 ? manifest.md5 : nil), for: status)
            }
            try partial.commit(as: destination.name)
        } catch {
            progress?.abandon()
            let kept = partial.record?.claimed().isEmpty == false
            if !kept { partial.discard() } // nothing worth resuming
            guard error.code == .fileChanged else {
                // Say what happens to what arrived, unless the message said so already.
                guard kept, error.code == nil, !error.message.contains("resumes") else { throw error }
                throw ClientError("\(error.message); what was verified is kept, and the same get resumes it")
            }
            // Never splice two versions: what was kept belongs to the old one.
            partial.discard()
            guard options.resume else { throw error }
            notices("\(destination.name) changed on the server during the download; starting over")
            var again = options
            again.resume = false
            return try downloadChunked(remote, to: destination, directory: directory, progress: progress, options: again, mode: mode)
        }
        let seconds = started.secondsElapsed
        progress?.finish(name: destination.name, bytes: moved, seconds: seconds,
                         check: options.md5 ? "SHA-256 and MD5 verified" : "SHA-256 verified")
        return TransferResult(bytes: moved, md5: manifest.md5 ?? "", seconds: seconds, path: destination.path,
                              contentHash: manifest.contentHash, resumedBytes: keptBytes - damagedBytes)
    }

    /// Receives the chunks `indices`, the answer to a `fetch`, in order, into `file` at their places,
    /// each checked against `manifest` (and entered in `record` once verified). A refusal in place of a
    /// chunk is thrown with the server's code, and the connection stays usable; a protocol or
    /// connection failure closes it: what was verified stays for a later attempt.
    func receiveChunks(_ indices: [Int], manifest: RemoteManifest, into file: Descriptor, record: ChunkRecord?,
                       progress: (Int) -> Void) throws(ClientError) -> ChunkReceiver.Outcome {
        let receiver = ChunkReceiver(file: file, size: manifest.size, bufferSize: chunkSize, record: record)
        for index in indices {
            let message = try receive()
            guard case .chunk(let header) = message, header.index == index else {
                channel.socket.close()
                if case .chunk(let header) = message { throw ClientError("the server sent chunk \(header.index) where \(index) was due") }
                throw unexpected(message)
            }
            do throws(WireError) { try receiver.validate(header) } catch {
                channel.socket.close()
                throw ClientError("the server sent a bad chunk header: \(error)")
            }
            do {
                try receiver.receive(header, expected: manifest.chunks[index], from: channel, timeout: timeout, progress: progress)
            } catch {
                channel.socket.close()
                _ = receiver.finish()
                throw ClientError(translating: error)
            }
        }
        return receiver.finish()
    }

    private func checkMD5(_ partial: DownloadPartial, manifest: RemoteManifest) throws(ClientError) {
        guard let expected = manifest.md5 else { throw ClientError("the server sent no MD5 though asked for one") }
        guard let file = partial.file else { return }
        let md5: String
        do { md5 = try FileHasher.md5(of: file, size: manifest.size).hexString } catch {
            throw ClientError("cannot read \(partial.dataPath): \(ClientSession.describe(error))")
        }
        guard md5 == expected else {
            partial.discard()
            throw ClientError("MD5 mismatch: the chunks all matched but the file's MD5 is \(md5), the server's \(expected); nothing was saved",
                              code: .checksumMismatch)
        }
    }
}
