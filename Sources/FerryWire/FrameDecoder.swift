/// Splits a byte stream into frames, whatever the segment boundaries: bytes go in as they arrive,
/// whole frame payloads come out in order.
///
/// A length of 0 or over the limit is refused as soon as the 4-byte prefix is seen, before anything of
/// that size is allocated.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    /// The largest payload accepted.
    public let maximumLength: Int

    public init(maximumLength: Int = Frame.maximumLength) {
        precondition(maximumLength >= 1 && maximumLength <= Frame.maximumLength)
        self.maximumLength = maximumLength
    }

    /// Bytes received but not yet returned as a frame or taken as body.
    public var bufferedCount: Int { buffer.count - start }

    /// Appends bytes read from the stream.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next whole frame's payload, or nil when more bytes are needed.
    public mutating func nextFrame() throws(WireError) -> [UInt8]? {
        guard bufferedCount >= Frame.headerSize else { return nil }
        let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16
            | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard length >= 1 else { throw WireError.emptyFrame }
        guard length <= maximumLength else { throw WireError.frameTooLarge(length: length, limit: maximumLength) }
        guard bufferedCount >= Frame.headerSize + length else { return nil }
        let bodyStart = start + Frame.headerSize
        let payload = Array(buffer[bodyStart..<bodyStart + length])
        start = bodyStart + length
        return payload
    }

    /// Hands over up to `limit` buffered bytes that belong to a body following the last frame.
    public mutating func takeBuffered(upTo limit: Int) -> ArraySlice<UInt8> {
        let count = min(limit, bufferedCount)
        let taken = buffer[start..<start + count]
        start += count
        return taken
    }

    /// True when the decoder holds part of a frame: the stream must not end here.
    public var hasPartialFrame: Bool { bufferedCount > 0 }

    private mutating func compactIfWorthIt() {
        if start > 0 && (start == buffer.count || start >= 65_536) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
