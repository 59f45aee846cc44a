import FerryCrypto
import FerryPosix
import FerryWire

/// Receives a body of known length into a file while hashing it on a second thread: the receiving
/// thread reads and writes, the pipeline's thread computes the MD5, and the two overlap.
public enum BodyReceiver {
    /// What came of receiving a body.
    public struct Outcome {
        /// MD5 of every byte received (also of those that could not be written).
        public let md5: [UInt8]
        /// The first write error, if writing failed; the rest of the body was still read, so the
        /// stream stays in step and a proper error can be sent.
        public let writeError: PosixError?
    }

    /// Receives exactly `length` bytes from `channel`, writing them to `file` and hashing them.
    /// Throws only for connection failures (close, reset, timeout); the channel is then unusable.
    public static func receive(
        from channel: MessageChannel,
        length: UInt64,
        into file: Descriptor,
        chunkSize: Int,
        timeout: Duration?,
        progress: (UInt64) -> Void = { _ in }
    ) throws -> Outcome {
        if length <= UInt64(chunkSize) {
            return try receiveSmall(from: channel, length: Int(length), into: file, timeout: timeout, progress: progress)
        }
        let pipeline = DigestPipeline(bufferSize: chunkSize)
        let digest = Digest(.md5)
        var received: UInt64 = 0
        var writeError: PosixError?
        var writeback = Writeback(file: file)
        channel.beginBody()
        while received < length {
            let (index, buffer) = pipeline.acquire()
            let count: Int
            do {
                count = try channel.readBody(into: buffer, remaining: length - received, timeout: timeout)
                if count == 0 { throw WireError.truncated(expected: length, received: received) }
            } catch {
                pipeline.release(index)
                pipeline.finish()
                throw error
            }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            if writeError == nil {
                do throws(PosixError) { try File.write(file, bytes) } catch { writeError = error }
            }
            pipeline.submit(index, count: count) { digest.update($0) }
            received += UInt64(count)
            if writeError == nil { writeback.wrote(offset: Int64(received) - Int64(count), count: count) }
            progress(received)
        }
        channel.endBody()
        pipeline.finish()
        return Outcome(md5: digest.finalize(), writeError: writeError)
    }

    /// A body that fits one chunk: no second thread to start, nothing to overlap.
    private static func receiveSmall(
        from channel: MessageChannel, length: Int, into file: Descriptor, timeout: Duration?,
        progress: (UInt64) -> Void
    ) throws -> Outcome {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 16)
        defer { buffer.deallocate() }
        channel.beginBody()
        let count = try channel.readBody(into: buffer, remaining: UInt64(length), timeout: timeout)
        guard count == length else { throw WireError.truncated(expected: UInt64(length), received: UInt64(count)) }
        channel.endBody()
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<count])
        var writeError: PosixError?
        do throws(PosixError) { try File.write(file, bytes) } catch { writeError = error }
        progress(UInt64(count))
        let digest = Digest(.md5)
        digest.update(bytes)
        return Outcome(md5: digest.finalize(), writeError: writeError)
    }
}
