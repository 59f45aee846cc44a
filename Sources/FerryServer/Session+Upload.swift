import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire

extension Session {
    /// Longest `incomplete` list: more missing ranges are asked for at the next commit.
    static let maximumIncompleteRanges = 1000

    /// `upload` (feature `chunks`): checks what `put` checks, opens the upload's partial (resuming an
    /// earlier attempt's verified chunks), tells the client which chunks it holds, then takes `chunk`s
    /// until `commit`. Each chunk is verified against its digest as it lands; the commit succeeds only
    /// when every chunk is held and the content hash (and the MD5, if the client gave one) match, and
    /// then the file is fsynced and renamed into place. Until then an existing file of that name is
    /// untouched, and if the upload is cut, the verified chunks wait for it to resume.
    func upload(_ request: UploadRequest, root: ShareRoot) throws -> TransferSummary {
        uploadAnswered = false
        let (user, path) = try uploader(request.path, size: request.size)
        let location = try root.locate(path, followFinal: false)
        let replacing = try replaceableSize(location)
        // A partial already on disk is counted at its full size; this upload takes its place. The
        // quota is settled before the partial is made, so that a first count of the root cannot
        // mistake this upload's own partial for bytes used.
        let resuming = UploadPartial.exists(user: user.name, path: location.path, size: request.size, in: location.parent)
        let partialCharge = resuming ? request.size : 0
        if !resuming {
            let available: UInt64
            do { available = try File.availableSpace(in: location.parent) } catch { throw ErrorReply(posix: error) }
            guard request.size <= available else {
                throw ErrorReply(.tooLarge, "\(request.size) bytes do not fit in the \(available) bytes free on the server")
            }
        }
        let reservation = try user.quota.map { quota throws(ErrorReply) in
            try server.quotas.reserve(size: request.size, replacing: replacing + partialCharge, in: root, quota: quota)
        }
        let partial = try UploadPartial(user: user.name, path: location.path, size: request.size, in: location.parent)
        var stored = false
        defer {
            // A partial with not one verified chunk is not worth its room.
            if !stored && !partial.discarded && partial.record.claimed().isEmpty { partial.discard() }
            if !stored && !partial.discarded {
                // The partial stays for a resume and holds room for the whole file until it expires.
                if let reservation {
                    reservation.commit(stored: request.size, replaced: partialCharge)
                } else if partialCharge == 0 {
                    server.quotas.recordUpload(in: root, stored: request.size, replaced: 0)
                }
            } else if !stored && partialCharge > 0 {
                // The partial counted before this upload is gone (the reservation lapses by itself).
                server.quotas.recordUpload(in: root, stored: 0, replaced: partialCharge)
            }
        }

        // What an earlier attempt left is offered at once and hashed again while chunks arrive; the
        // first commit waits for that check, and a chunk that fails it is missing after all.
        var held = partial.claimedChunks()
        var check: ChunkCheck? = ChunkCheck(partial.file, size: request.size, claims: held)
        let count = ChunkGrid.count(for: request.size)
        uploadAnswered = true
        try sendHeld(held, count: count)
        var receiver = ChunkReceiver(file: partial.file, size: request.size, bufferSize: configuration.chunkSize, record: partial.record)
        var received: UInt64 = 0
        while true {
            let message = try channel.receive(timeout: configuration.stallTimeout)
            switch message {
            case .chunk(let header):
                try receiver.validate(header)
                guard let expected = [UInt8](hexString: header.sha256), expected.count == 32 else {
                    throw WireError.malformedMessage("sha256 of chunk \(header.index) must be 64 hex digits")
                }
                try receiver.receive(header, expected: expected, from: channel, timeout: configuration.stallTimeout)
                received += UInt64(header.size)
            case .commit(let commit):
                let outcome = receiver.finish()
                guard commit.contentHash.count == 64, [UInt8](hexString: commit.contentHash) != nil,
                      commit.md5.map({ $0.count == 32 && [UInt8](hexString: $0) != nil }) ?? true else {
                    throw WireError.malformedMessage("content_hash must be 64 hex digits and md5 32")
                }
                if let writeError = outcome.writeError { throw ErrorReply(posix: writeError) }
                if let confirmed = check?.wait() {
                    // What arrived in this attempt is judged by the receiver; the rest by the check.
                    for index in Array(held.keys) where confirmed[index] == nil && outcome.verified[index] == nil {
                        held[index] = nil
                        try? partial.record.forget(index)
                    }
                    check = nil
                }
                held.merge(outcome.verified) { _, new in new }
                for index in outcome.mismatched { held[index] = nil }
                let missing = (0..<count).filter { held[$0] == nil }
                if !missing.isEmpty && commit.last == true {
                    throw ErrorReply(.checksumMismatch, "chunks \(ChunkRange.describe(missing)) are missing or failed their digest"
                                     + (outcome.mismatched.isEmpty ? "" : " (\(ChunkRange.describe(outcome.mismatched)) failed)")
                                     + "; the verified rest waits for the same upload to resume")
                }
                if !missing.isEmpty {
                    if !outcome.mismatched.isEmpty {
                        logger.notice("upload \(location.path): chunks \(ChunkRange.ranges(of: outcome.mismatched).map { "\($0.indices)" }.joined(separator: ", ")) failed their digest")
                    }
                    try reply(.incomplete(Incomplete(
                        chunks: Array(ChunkRange.ranges(of: missing).prefix(Self.maximumIncompleteRanges)),
                        mismatched: Array(ChunkRange.ranges(of: outcome.mismatched).prefix(Self.maximumIncompleteRanges))
                    )))
                    receiver = ChunkReceiver(file: partial.file, size: request.size, bufferSize: configuration.chunkSize, record: partial.record)
                    continue
                }
                let manifest = try verify(commit, chunks: (0..<count).map { held[$0]! }, partial: partial)
                try store(partial, location: location, manifest: manifest, mtime: request.mtime, reservation: reservation,
                          root: root, partialCharge: partialCharge)
                stored = true
                let hash = manifest.contentHash.hexString
                try reply(.stored(Stored(path: location.path.description, size: request.size, md5: manifest.md5?.hexString, contentHash: hash)))
                logger.info("upload \(location.path): \(received) bytes received, \(request.size - min(received, request.size)) already held")
                return TransferSummary(path: location.path, md5: manifest.md5?.hexString ?? "")
            default:
                throw WireError.malformedMessage("expected \"chunk\" or \"commit\" during an upload, not \"\(message.type)\"")
            }
        }
    }

    /// The held chunks, in `partial` pages.
    func sendHeld(_ held: [Int: [UInt8]], count: Int) throws {
        let entries = held.keys.sorted().map { HeldChunk(index: $0, sha256: held[$0]!.hexString) }
        var first = 0
        repeat {
            let end = min(entries.count, first + PartialPage.maximumHeld)
            try reply(.partial(PartialPage(chunkCount: count, held: Array(entries[first..<end]), more: end < entries.count)))
            first = end
        } while first < entries.count
    }

    /// The manifest of the complete partial, once its content hash (and MD5, if given) match the
    /// client's. A mismatch means the client's file changed while it was sent: the partial is dropped.
    private func verify(_ commit: CommitRequest, chunks: [[UInt8]], partial: UploadPartial) throws -> Manifest {
        var manifest = Manifest(size: partial.size, chunks: chunks, md5: nil)
        guard manifest.contentHash.hexString == commit.contentHash.lowercased() else {
            partial.discard()
            throw ErrorReply(.checksumMismatch, "the chunks received have content hash \(manifest.contentHash.hexString), not \(commit.contentHash); did the file change while it was sent? Nothing was stored")
        }
        if let md5 = commit.md5 {
            let received: [UInt8]
            do { received = try FileHasher.md5(of: partial.file, size: partial.size) } catch let error as PosixError {
                throw ErrorReply(posix: error)
            }
            guard received.hexString == md5.lowercased() else {
                partial.discard()
                throw ErrorReply(.checksumMismatch, "the data received has MD5 \(received.hexString), not \(md5); nothing was stored")
            }
            manifest.md5 = received
        }
        return manifest
    }

    /// Gives the partial the client's modification time (if sent), makes it durable and renames it into
    /// place, settling the quota and keeping the manifest.
    private func store(_ partial: UploadPartial, location: ShareRoot.Location, manifest: Manifest, mtime: Int64?,
                       reservation: QuotaLedger.Reservation?, root: ShareRoot, partialCharge: UInt64) throws {
        do {
            if let mtime { try File.setModificationTime(partial.file, seconds: mtime) }
            try File.sync(partial.file)
            let replaced = try replaceableSize(location)
            try partial.commit(as: location.name)
            if let reservation {
                reservation.commit(stored: partial.size, replaced: replaced + partialCharge)
            } else {
                server.quotas.recordUpload(in: root, stored: partial.size, replaced: replaced + partialCharge)
            }
            try File.syncDirectory(location.parent)
        } catch let error as PosixError {
            throw ErrorReply(posix: error)
        }
        if let status = try? FileStatus.of(partial.file) {
            server.forgetDigests(of: status)
            server.manifests.store(manifest, for: partial.file, status: status)
            if manifest.md5 == nil { server.computeMD5Later(partial.file, status: status) }
        }
    }
}
