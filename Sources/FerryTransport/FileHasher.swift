import FerryCrypto
import FerryPosix
import FerryWire
import Foundation

/// Hashes chunks of a file on the grid (``ChunkGrid``) with one thread per core, and, when asked, its
/// MD5 on one more thread reading in order alongside (the page cache serves both from one disk read).
/// The caller's thread waits, reporting progress about once a second.
public enum FileHasher {
    /// What a pass produced: the SHA-256 of each chunk asked for, in the order asked, and the MD5.
    public struct Result: Sendable {
        public let digests: [[UInt8]]
        public let md5: [UInt8]?
    }

    /// Threads that hash chunks at once.
    public static let workers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    /// Hashes the chunks `indices` (all of them when nil) of `file`, which is `size` bytes long, and its
    /// MD5 when `md5` is set. `progress` gets the bytes hashed so far about once a second; what it throws
    /// stops the pass and is rethrown. Throws ``FileShrank`` when the file ends before `size`.
    public static func hash(
        _ file: Descriptor, size: UInt64, indices: [Int]? = nil, md5: Bool = false,
        progress: (UInt64) throws -> Void = { _ in }
    ) throws -> Result {
        let wanted = indices ?? Array(0..<ChunkGrid.count(for: size))
        if size <= UInt64(ChunkGrid.size) && wanted.count <= 1 {
            return try hashSmall(file, size: Int(size), chunk: !wanted.isEmpty, md5: md5)
        }
        let pass = Pass(file: file, size: size, indices: wanted)
        var threads = (0..<min(workers, max(wanted.count, 1))).map { _ in Thread { pass.hashChunks() } }
        if md5 { threads.append(Thread { pass.hashMD5() }) }
        for thread in threads {
            thread.stackSize = 256 * 1024
            thread.start()
        }
        try pass.wait(threads: threads.count, progress: progress)
        return Result(digests: pass.digests, md5: pass.md5)
    }

    /// The MD5 of the whole of `file`, `size` bytes long, in one read pass on its own thread.
    public static func md5(of file: Descriptor, size: UInt64, progress: (UInt64) throws -> Void = { _ in }) throws -> [UInt8] {
        guard let md5 = try hash(file, size: size, indices: [], md5: true, progress: progress).md5 else {
            throw FileShrank(expected: size, sent: 0) // the pass stops short only when the file does
        }
        return md5
    }

    /// A file of at most one chunk, on the caller's thread: one read, both digests, no threads to start
    /// (a tree of small files would otherwise start two per file).
    private static func hashSmall(_ file: Descriptor, size: Int, chunk: Bool, md5: Bool) throws -> Result {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 4096)
        defer { buffer.deallocate() }
        let count = try File.read(file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<size]), at: 0)
        guard count == size else { throw FileShrank(expected: UInt64(size), sent: UInt64(count)) }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<size])
        return Result(digests: chunk ? [Digest.hash(.sha256, bytes)] : [], md5: md5 ? Digest.hash(.md5, bytes) : nil)
    }

    /// The SHA-256 of a whole chunk of zeros, worked out once.
    static let fullZeroDigest: [UInt8] = zeros(ChunkGrid.size)

    /// The SHA-256 of `length` zero bytes.
    static func zeroDigest(_ length: Int) -> [UInt8] {
        length == ChunkGrid.size ? fullZeroDigest : zeros(length)
    }

    private static func zeros(_ length: Int) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        return Digest.hash(.sha256, UnsafeRawBufferPointer(rebasing: buffer[..<length]))
    }

    /// The state the threads of one pass share, under `condition`'s lock.
    private final class Pass: @unchecked Sendable {
        // @unchecked: every mutable field is read and written only with `condition` locked; `file` is
        // only read (pread), which many threads may do at once.
        let file: Descriptor
        let size: UInt64
        let indices: [Int]
        let condition = NSCondition()
        var next = 0
        var digests: [[UInt8]]
        var md5: [UInt8]?
        var hashed: UInt64 = 0
        /// Threads that have finished.
        var ended = 0
        var failure: (any Error)?

        init(file: Descriptor, size: UInt64, indices: [Int]) {
            self.file = file
            self.size = size
            self.indices = indices
            digests = Array(repeating: [], count: indices.count)
        }

        private var stopped: Bool { failure != nil }

        func hashChunks() {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkGrid.size, alignment: 4096)
            defer { buffer.deallocate() }
            while true {
                condition.lock()
                guard !stopped, next < indices.count else { break }
                let position = next
                next += 1
                condition.unlock()
                let index = indices[position]
                let length = ChunkGrid.length(of: index, fileSize: size)
                do {
                    if File.isHole(file, offset: Int64(ChunkGrid.offset(of: index)), count: length) {
                        // A sparse file's hole: zeros, without reading them.
                        let digest = FileHasher.zeroDigest(length)
                        condition.lock()
                        digests[position] = digest
                        hashed += UInt64(length)
                        condition.unlock()
                        continue
                    }
                    let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[..<length])
                    let count = try File.read(file, into: piece, at: Int64(ChunkGrid.offset(of: index)))
                    guard count == length else {
                        throw FileShrank(expected: size, sent: ChunkGrid.offset(of: index) + UInt64(count))
                    }
                    let digest = Digest.hash(.sha256, UnsafeRawBufferPointer(piece))
                    condition.lock()
                    digests[position] = digest
                    hashed += UInt64(length)
                    condition.unlock()
                } catch {
                    fail(error)
                    condition.lock()
                    break
                }
            }
            // The lock is held here, from the loop's last turn.
            ended += 1
            condition.broadcast()
            condition.unlock()
        }

        func hashMD5() {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkGrid.size, alignment: 4096)
            defer { buffer.deallocate() }
            let digest = Digest(.md5)
            var offset: UInt64 = 0
            do {
                while offset < size {
                    condition.lock()
                    let stop = stopped
                    condition.unlock()
                    if stop { break }
                    let want = Int(min(UInt64(buffer.count), size - offset))
                    let count = try File.read(file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: Int64(offset))
                    guard count == want else { throw FileShrank(expected: size, sent: offset + UInt64(count)) }
                    digest.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    offset += UInt64(count)
                    if indices.isEmpty {
                        // An MD5-only pass: its progress is the MD5's.
                        condition.lock()
                        hashed = offset
                        condition.unlock()
                    }
                }
            } catch {
                fail(error)
            }
            let result = digest.finalize()
            condition.lock()
            if offset == size { md5 = result }
            ended += 1
            condition.broadcast()
            condition.unlock()
        }

        private func fail(_ error: any Error) {
            condition.lock()
            if failure == nil { failure = error }
            condition.broadcast()
            condition.unlock()
        }

        /// Waits for `threads` threads to end, reporting progress about once a second; rethrows the
        /// first failure (a thread's, or what `progress` threw).
        func wait(threads: Int, progress: (UInt64) throws -> Void) throws {
            var nextReport = Date(timeIntervalSinceNow: 1)
            condition.lock()
            while ended < threads {
                if failure == nil && Date() >= nextReport {
                    let done = hashed
                    condition.unlock()
                    do { try progress(done) } catch { fail(error) }
                    condition.lock()
                    nextReport = Date(timeIntervalSinceNow: 1)
                    continue
                }
                _ = condition.wait(until: nextReport)
            }
            let failure = self.failure
            condition.unlock()
            if let failure { throw failure }
        }
    }
}

extension Digest {
    /// Digests `bytes` in one call.
    public static func hash(_ algorithm: DigestAlgorithm, _ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let digest = Digest(algorithm)
        digest.update(bytes)
        return digest.finalize()
    }
}
