import FerryPosix
import FerryWire

/// One end of a Ferry connection: sends and receives framed messages, and streams the raw bodies that
/// follow `file` and `put` headers. Used by a single thread at a time.
///
/// Every wait is bounded: a whole message must arrive within the timeout given for it, and a body must
/// keep making progress within its timeout, so a silent, slow or stalled peer surfaces as a
/// ``TimeoutError`` rather than a stuck thread.
public final class MessageChannel {
    /// The stream the frames travel over: a socket, or TLS over one.
    public let stream: any ByteStream
    /// The connection underneath the stream.
    public var socket: Socket { stream.socket }
    private var decoder: FrameDecoder
    private let coder = MessageCoder()
    private let frameBuffer: UnsafeMutableRawBufferPointer

    /// True while a body is partly sent or received: no frame may be written then, since the peer
    /// would read it as file data. After a failure in this state the connection can only be closed.
    public private(set) var isInBody = false

    /// Body bytes written to the stream so far (frames not counted), also by writes that failed part
    /// way: read before and after a transfer, what it really sent.
    public private(set) var bodyBytesSent: UInt64 = 0
    /// Body bytes read from the stream so far (frames not counted): what a transfer really received.
    public private(set) var bodyBytesReceived: UInt64 = 0

    /// The bandwidth limits file bodies are kept to, both ways; nil for none. Frames are never held
    /// back: only ``sendBody(file:from:length:chunkSize:timeout:progress:)``, ``sendBody(_:timeout:progress:)``,
    /// the body of ``send(_:body:timeout:)`` and ``readBody(into:remaining:timeout:)`` pay for their bytes.
    public var throttle: BodyThrottle?

    /// - Parameters:
    ///   - stream: a connected stream; the channel shares its ownership.
    ///   - maximumFrameLength: the largest frame accepted from the peer.
    public init(stream: any ByteStream, maximumFrameLength: Int = Frame.maximumLength) {
        self.stream = stream
        decoder = FrameDecoder(maximumLength: maximumFrameLength)
        frameBuffer = .allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit { frameBuffer.deallocate() }

    /// Sends one message as a frame.
    public func send(_ message: Message, timeout: Duration?) throws {
        try writeBetweenFrames(coder.frame(message), timeout: timeout)
    }

    /// Sends a message and the whole body that follows it in one write: for bodies small enough to
    /// copy, where a separate write for each would cost a system call and a wake-up of the peer.
    /// Under a ``throttle`` the body follows the frame slice by slice instead.
    public func send(_ message: Message, body: UnsafeRawBufferPointer, timeout: Duration?) throws {
        guard throttle != nil else {
            let frame = try coder.frame(message)
            var written = 0
            defer { bodyBytesSent += UInt64(max(0, written - frame.count)) }
            return try writeBetweenFrames(frame + body, timeout: timeout, written: &written)
        }
        try send(message, timeout: timeout)
        try sendBody(body, timeout: timeout)
    }

    /// Sends several messages in one write, as pipelined requests: the peer answers them in order.
    public func send(_ messages: [Message], timeout: Duration?) throws {
        try writeBetweenFrames(messages.flatMap { try coder.frame($0) }, timeout: timeout)
    }

    /// Writes whole frames (and perhaps a whole body after them); never in the middle of a body, where
    /// the peer would take the frame for file data: that is refused with ``FrameInsideBody``.
    private func writeBetweenFrames(_ bytes: [UInt8], timeout: Duration?) throws {
        var written = 0
        try writeBetweenFrames(bytes, timeout: timeout, written: &written)
    }

    private func writeBetweenFrames(_ bytes: [UInt8], timeout: Duration?, written: inout Int) throws {
        guard !isInBody else { throw FrameInsideBody() }
        try bytes.withUnsafeBytes { try stream.write($0, timeout: timeout, written: &written) }
    }

    /// Receives the next message, which must arrive whole within `timeout` (nil: no limit), however
    /// slowly its bytes trickle in. Throws ``ChannelClosed`` when the peer closed between frames, a
    /// ``WireError`` for a framing or format violation, a ``TimeoutError`` when the time ran out.
    public func receive(timeout: Duration?) throws -> Message {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            if let payload = try decoder.nextFrame() {
                return try coder.decode(payload)
            }
            var remaining: Duration?
            if let deadline {
                remaining = deadline - .now
                if remaining! <= .zero { throw TimeoutError(operation: "read a message") }
            }
            let count = try stream.read(into: frameBuffer, timeout: remaining)
            if count == 0 {
                if decoder.hasPartialFrame { throw WireError.closedInsideFrame }
                throw ChannelClosed()
            }
            decoder.append(UnsafeRawBufferPointer(rebasing: frameBuffer[..<count]))
        }
    }

    /// Ends the stream and closes the connection.
    public func close() { stream.close() }

    /// Marks the start of a body: from here until ``endBody()`` no frame may be sent.
    public func beginBody() { isInBody = true }

    /// Marks a body as complete; the stream is back between frames.
    public func endBody() { isInBody = false }

    /// Reads body bytes into `buffer` until it is full or `remaining` bytes have come, whichever is
    /// less; bytes that arrived with the last frame are used first. Waits at most `timeout` for each
    /// piece. Returns fewer bytes only when the peer closed the connection: 0 means nothing more will come.
    public func readBody(into buffer: UnsafeMutableRawBufferPointer, remaining: UInt64, timeout: Duration?) throws -> Int {
        let want = Int(min(UInt64(buffer.count), remaining))
        var filled = 0
        defer { bodyBytesReceived += UInt64(filled) }
        if decoder.bufferedCount > 0 {
            let piece = decoder.takeBuffered(upTo: want)
            piece.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            filled = piece.count
            throttle?.pay(filled)
        }
        while filled < want {
            // Under a throttle, one slice per read: what arrived is paid for before more is taken in.
            let end = throttle.map { min(want, filled + $0.slice) } ?? want
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<end])
            let count = try stream.read(into: target, timeout: timeout)
            if count == 0 { break }
            filled += count
            throttle?.pay(count)
        }
        return filled
    }

    /// Sends `length` bytes of `file` from `start` with sendfile(2), `chunkSize` at a time, calling
    /// `progress` with the bytes sent so far after each piece. Throws when the file ends early.
    public func sendBody(
        file: Descriptor,
        from start: UInt64 = 0,
        length: UInt64,
        chunkSize: Int,
        timeout: Duration?,
        progress: (UInt64) -> Void = { _ in }
    ) throws {
        beginBody()
        var offset = Int64(start)
        // sendFile moves the offset by what it sent, also when it fails part way.
        defer { bodyBytesSent += UInt64(offset - Int64(start)) }
        let end = Int64(start + length)
        while offset < end {
            let want = Int(min(Int64(throttle?.slice ?? chunkSize), Int64(chunkSize), end - offset))
            let sent = try stream.sendFile(file, offset: &offset, count: want, timeout: timeout)
            if sent == 0 { throw FileShrank(expected: start + length, sent: UInt64(offset)) }
            throttle?.pay(sent)
            progress(UInt64(offset) - start)
        }
        endBody()
    }

    /// Sends bytes that are already in memory as (part of) a body, calling `progress` with the count
    /// of each piece written: the whole at once, or each slice under a ``throttle``.
    public func sendBody(_ bytes: UnsafeRawBufferPointer, timeout: Duration?, progress: (Int) -> Void = { _ in }) throws {
        beginBody()
        var sent = 0
        repeat {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[sent..<min(bytes.count, sent + (throttle?.slice ?? bytes.count))])
            var written = 0
            defer { bodyBytesSent += UInt64(written) }
            try stream.write(piece, timeout: timeout, written: &written)
            sent += piece.count
            throttle?.pay(piece.count)
            progress(piece.count)
        } while sent < bytes.count
        endBody()
    }
}

/// The peer closed the connection cleanly between two frames.
public struct ChannelClosed: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "connection closed by peer" }
}

/// A frame was to be sent while a body was partly sent or received; nothing was written, and the
/// connection can only be closed.
public struct FrameInsideBody: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "a frame cannot be sent in the middle of a body" }
}

/// The file being sent became shorter than its announced size.
public struct FileShrank: Error, Sendable, CustomStringConvertible {
    public let expected: UInt64
    public let sent: UInt64
    public var description: String { "file shrank while being sent: \(sent) of \(expected) bytes" }
}
