import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire
import Foundation

extension ClientSession {
    /// Uploads chunk by chunk (feature `chunks`), reading the local file once: each chunk is hashed on
    /// worker threads a little ahead of being sent with its digest, which the server checks as it
    /// lands. Chunks the server already holds from an interrupted attempt are hashed here and sent only
    /// if ours differ. The server stores the file when the content hash of all chunks (and the MD5,
    /// with `options.md5`) match; chunks that failed on the way are sent again. With `mtime` the stored
    /// file gets that modification time.
    func uploadChunked(_ file: Descriptor, size: UInt64, name: String, to remote: String,
                       progress: (any TransferProgress)?, options: TransferOptions, mtime: Int64? = nil) throws(ClientError) -> TransferResult {
        let started = ContinuousClock.now
        let count = ChunkGrid.count(for: size)
        let held = try startUpload(remote, size: size, name: name, mtime: mtime, announcingMD5: options.md5)

        // One pass over the file: every chunk is read and hashed (the content hash needs them all); a
        // chunk the server holds with our digest is skipped, the others are sent.
        let skip = options.resume ? held : [:]
        let heldBytes = ChunkGrid.bytes(of: skip.keys, fileSize: size)
        if !skip.isEmpty {
            notices("resuming \(name): \(ByteFormat.size(heldBytes)) of \(ByteFormat.size(size)) already on the server")
        }
        var digests: [[UInt8]?] = Array(repeating: nil, count: count)
        progress?.begin(name: name, total: size, phase: "sending", already: heldBytes)
        var done = heldBytes
        var moved: UInt64 = 0
        var keptBytes: UInt64 = 0
        var toSend = Array(0..<count)
        var skipping = skip
        var round = 0
        while true {
            try sendChunks(toSend, of: file, size: size, digests: &digests, skipping: skipping) { index, bytes, sent in
                if sent {
                    moved += UInt64(bytes)
                    // A held chunk that turned out not ours was counted in at the start already.
                    if round > 0 || skip[index] == nil { done += UInt64(bytes) }
                } else {
                    keptBytes += UInt64(bytes)
                }
                progress?.update(done: done)
            }
            skipping = [:]
            let contentHash = ContentHash.of(digests.map { $0! }).hexString
            var md5: String?
            if options.md5 {
                do { md5 = try FileHasher.md5(of: file, size: size).hexString } catch {
                    progress?.abandon()
                    abandonUpload()
                    throw ClientError("cannot read \(name): \(ClientSession.describe(error))")
                }
            }
            let answer: Message
            do { answer = try request(.commit(CommitRequest(contentHash: contentHash, md5: md5))) } catch {
                progress?.abandon()
                throw error
            }
            switch answer {
            case .stored(let stored):
                if let status = try? FileStatus.of(file) {
                    localDigests?.store(LocalDigests.Digests(contentHash: contentHash, md5: md5), for: status)
                }
                let seconds = started.secondsElapsed
                progress?.finish(name: name, bytes: moved, seconds: seconds, check: options.md5 ? "SHA-256 and MD5 verified" : "SHA-256 verified")
                return TransferResult(bytes: moved, md5: stored.md5 ?? "", seconds: seconds, path: stored.path,
                                      contentHash: contentHash, resumedBytes: keptBytes)
            case .incomplete(let incomplete):
                round += 1
                toSend = incomplete.chunks.flatMap(\.indices).filter { $0 >= 0 && $0 < count }
                guard round <= Self.chunkRetries, !toSend.isEmpty else {
                    progress?.abandon()
                    abandonUpload() // the server still waits for chunks
                    throw ClientError("the server still lacks chunks \(ChunkRange.describe(toSend)) of \(name) after \(round) attempts; the verified rest waits on the server for the same put",
                                      code: .checksumMismatch)
                }
                let failed = incomplete.mismatched.flatMap(\.indices)
                if !failed.isEmpty { notices("chunks \(ChunkRange.describe(failed)) of \(name) arrived damaged; sending them again") }
                for index in toSend { done -= min(done, UInt64(ChunkGrid.length(of: index, fileSize: size))) }
            default:
                progress?.abandon()
                throw unexpected(answer)
            }
        }
    }

    /// How long an upload waits for the server to let go of an earlier, cut attempt of the same file
    /// (it holds it until it notices the cut: at most its stall timeout).
    static let busyPatience: Duration = .seconds(90)

    /// Sends `upload` (saying, with `announcingMD5`, that the commit will carry the MD5) and reads the
    /// `partial` pages: the chunks the server holds, with their digests. While the server answers `busy` (an earlier attempt it has not yet seen end), asks again.
    private func startUpload(_ remote: String, size: UInt64, name: String, mtime: Int64?, announcingMD5: Bool) throws(ClientError) -> [Int: [UInt8]] {
        let count = ChunkGrid.count(for: size)
        let deadline = ContinuousClock.now + Self.busyPatience
        var message: Message
        var waited = false
        while true {
            do {
                message = try request(.upload(UploadRequest(path: remote, size: size, mtime: mtime, md5: announcingMD5 ? true : nil)))
                break
            } catch where error.code == .busy && ContinuousClock.now < deadline {
                if !waited { notices("the server is still finishing an earlier attempt to put \(name); waiting for it") }
                waited = true
                Thread.sleep(forTimeInterval: 1)
            }
        }
        var held: [Int: [UInt8]] = [:]
        while true {
            guard case .partial(let page) = message else { throw unexpected(message) }
            guard page.chunkCount == count, page.chunkSize == ChunkGrid.size else {
                throw ClientError("the server cut the file into \(page.chunkCount) chunks of \(page.chunkSize) bytes; this ferry expects \(count) of \(ChunkGrid.size)")
            }
            for chunk in page.held {
                if let digest = [UInt8](hexString: chunk.sha256), chunk.index >= 0, chunk.index < count { held[chunk.index] = digest }
            }
            if !page.more { return held }
            message = try receive()
        }
    }

    /// Sends chunks `indices` in order, each read and hashed ahead on worker threads. A chunk sent
    /// before must hash the same now, or the file changed while being sent.
    private func sendChunks(_ indices: [Int], of file: Descriptor, size: UInt64, digests: inout [[UInt8]?],
                            skipping held: [Int: [UInt8]] = [:], progress: (_ index: Int, _ bytes: Int, _ sent: Bool) -> Void) throws(ClientError) {
        guard !indices.isEmpty else { return }
        let reader = ChunkReader(file: file, size: size, indices: indices)
        defer { reader.stop() }
        do {
            while let item = try reader.next() {
                if let earlier = digests[item.index], earlier != item.digest {
                    abandonUpload()
                    throw ClientError("the local file changed while it was being sent (chunk \(item.index) differs); nothing was stored")
                }
                digests[item.index] = item.digest
                if held[item.index] == item.digest {
                    reader.done(item)
                    progress(item.index, item.bytes.count, false)
                    continue
                }
                try channel.send(.chunk(ChunkHeader(index: item.index, size: item.bytes.count, sha256: item.digest.hexString)), timeout: timeout)
                // Piece by piece under a --limit-rate, so that the progress line shows the rate as it is.
                try channel.sendBody(item.bytes, timeout: timeout) { progress(item.index, $0, true) }
                reader.done(item)
            }
        } catch let error as ClientError {
            throw error
        } catch let error as PosixError where error.function == "pread" || error.function == "read" {
            abandonUpload()
            throw ClientError("cannot read the local file: \(error.reason)")
        } catch is FileShrank {
            abandonUpload()
            throw ClientError("the local file shrank while it was being sent; nothing was stored")
        } catch {
            channel.socket.close()
            throw ClientError("\(ClientError(translating: error).message); what the server verified waits there for the same put")
        }
    }

    /// Ends an upload that cannot go on from this side: the connection is closed, since the server is
    /// waiting for chunks; the chunks it verified wait for a later attempt.
    private func abandonUpload() {
        channel.socket.close()
    }
}
