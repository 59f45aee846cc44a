import FerryPosix
import FerryWire

/// One end of a Ferry connection: sends and receives framed messages, and streams the raw bodies that
/// follow `file` and `put` headers. Used by a single thread at a time.
///
/// Every wait is bounded by the timeout the caller passes, so a silent or stalled peer surfaces as a
/// ``TimeoutError`` rather than a stuck thread.
public final class MessageChannel {
    /// The underlying connection.
    public let socket: Socket
    private var decoder: FrameDecoder
    private let coder = MessageCoder()
    private let frameBuffer: UnsafeMutableRawBufferPointer

    /// - Parameters:
    ///   - socket: a connected socket; the channel shares its ownership.
    ///   - maximumFrameLength: the largest frame accepted from the peer.
    public init(socket: Socket, maximumFrameLength: Int = Frame.maximumLength) {
        self.socket = socket
        decoder = FrameDecoder(maximumLength: maximumFrameLength)
        frameBuffer = .allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit { frameBuffer.deallocate() }

    /// Sends one message as a frame.
    public func send(_ message: Message, timeout: Duration?) throws {
        let frame = coder.frame(message)
        try frame.withUnsafeBytes { try socket.write($0, timeout: timeout) }
    }

    /// Receives the next message. Throws ``ChannelClosed`` when the peer closed between frames,
    /// a ``WireError`` for a framing or format violation, a ``TimeoutError`` when nothing came in time.
    public func receive(timeout: Duration?) throws -> Message {
        while true {
            if let payload = try decoder.nextFrame() {
                return try coder.decode(payload)
            }
            let count = try socket.read(into: frameBuffer, timeout: timeout)
            if count == 0 {
                if decoder.hasPartialFrame {
                    throw WireError.truncated(expected: UInt64(Frame.headerSize), received: UInt64(decoder.bufferedCount))
                }
                throw ChannelClosed()
            }
            decoder.append(UnsafeRawBufferPointer(rebasing: frameBuffer[..<count]))
        }
    }

    /// Receives exactly `length` body bytes into `buffer`-sized pieces, handing each to `consume` in order.
    /// Never reads past the body, so the next frame stays on the stream.
    public func receiveBody(
        length: UInt64,
        buffer: UnsafeMutableRawBufferPointer,
        timeout: Duration?,
        consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var received: UInt64 = 0
        while decoder.bufferedCount > 0 && received < length {
            let piece = decoder.takeBuffered(upTo: Int(min(UInt64(buffer.count), length - received)))
            try piece.withUnsafeBytes { try consume($0) }
            received += UInt64(piece.count)
        }
        while received < length {
            let want = Int(min(UInt64(buffer.count), length - received))
            let count = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), timeout: timeout)
            if count == 0 { throw WireError.truncated(expected: length, received: received) }
            try consume(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            received += UInt64(count)
        }
    }

    /// Sends `length` bytes of `file` from offset 0 with sendfile(2), `chunkSize` at a time, calling
    /// `progress` with the bytes sent so far after each chunk. Throws when the file ends early.
    public func sendBody(
        file: Descriptor,
        length: UInt64,
        chunkSize: Int,
        timeout: Duration?,
        progress: (UInt64) -> Void = { _ in }
    ) throws {
        var offset: Int64 = 0
        while UInt64(offset) < length {
            let want = Int(min(UInt64(chunkSize), length - UInt64(offset)))
            let sent = try socket.sendFile(file, offset: &offset, count: want, timeout: timeout)
            if sent == 0 { throw FileShrank(expected: length, sent: UInt64(offset)) }
            progress(UInt64(offset))
        }
    }
}

/// The peer closed the connection cleanly between two frames.
public struct ChannelClosed: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "connection closed by peer" }
}

/// The file being sent became shorter than its announced size.
public struct FileShrank: Error, Sendable, CustomStringConvertible {
    public let expected: UInt64
    public let sent: UInt64
    public var description: String { "file shrank while being sent: \(sent) of \(expected) bytes" }
}
