// libFuzzer entry for Ferry's wire decoding: FrameDecoder, MessageCoder and SharePath(parsing:).
//
// Built by fuzz/run.sh together with Sources/FerryWire/*.swift, Sources/FerryServer/SharePath.swift
// and fuzz/TemporaryFileStub.swift. Errors thrown by the code under test are expected and ignored;
// a trap (fatalError/precondition, in this file or in the code under test) or an ASan report is a
// finding.
//
// What one input does:
//  1. The input is a byte stream as a peer would send it. It is fed to a FrameDecoder in pieces whose
//     sizes come from the input itself, the way MessageChannel does: frames are drained after every
//     piece, every frame is decoded with MessageCoder, and a `put` or `file` header makes the next
//     `size` bytes a raw body (taken from the decoder with takeBuffered first, then straight from the
//     stream). The events seen (frames, bodies, the first framing error, a partial frame at the end)
//     must be exactly those of a straightforward reference parse of the whole stream, whatever the
//     split. Every decoded message must round-trip through encode/frame/decode unchanged.
//  2. The whole input is decoded as one frame payload (same round-trip check on success).
//  3. The input, as UTF-8, is parsed as a SharePath; on success the components are checked.
//  4. The input is parsed as a PROXY protocol v2 header (and as an IP address and a CIDR range): a
//     header never claims more bytes than there are, every prefix of it asks for more, and what it
//     names encodes back to a header that parses the same.
//
// The last input byte picks the variant: bits 0-1 the splitting, bit 7 a small decoder limit.

import FerryWire
import Foundation

/// FERRY_FUZZ_TRACE=1 prints what each input did (for reproducing a finding by hand).
let trace = ProcessInfo.processInfo.environment["FERRY_FUZZ_TRACE"] != nil

func log(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

// MARK: - Entry point

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let coder = MessageCoder()

    fuzzStream(input, coder: coder)
    if let message = try? coder.decode(input) {
        if trace { log("payload: \(message)") }
        checkRoundTrip(message, coder: coder)
    }
    fuzzSharePath(input)
    fuzzProxyHeader(input)
    return 0
}

// MARK: - Stream model

/// What a receiver observes on the stream, in order.
enum StreamEvent: Equatable {
    /// One frame payload, and the message it decoded to (nil when MessageCoder refused it).
    case frame([UInt8], Message?)
    /// The raw body that followed a `put` or `file` header (possibly cut short by the end of input).
    case body([UInt8])
    /// The framing error that ended the stream.
    case failed(WireError)
    /// The stream ended between frames (false) or inside a frame (true).
    case ended(partialFrame: Bool)
}

/// The body length a message announces, if any.
func announcedBody(_ message: Message?) -> UInt64? {
    switch message {
    case .put(let request): request.size
    case .file(let header): header.size
    default: nil
    }
}

/// Reference parse: one pass over the whole stream, no FrameDecoder involved.
func referenceEvents(_ stream: [UInt8], limit: Int, coder: MessageCoder) -> [StreamEvent] {
    var events: [StreamEvent] = []
    var position = 0
    while true {
        let left = stream.count - position
        if left < 4 {
            events.append(.ended(partialFrame: left > 0))
            return events
        }
        let length = Int(stream[position]) << 24 | Int(stream[position + 1]) << 16
            | Int(stream[position + 2]) << 8 | Int(stream[position + 3])
        if length == 0 {
            events.append(.failed(.emptyFrame))
            return events
        }
        if length > limit {
            events.append(.failed(.frameTooLarge(length: length, limit: limit)))
            return events
        }
        if left < 4 + length {
            events.append(.ended(partialFrame: true))
            return events
        }
        let payload = Array(stream[(position + 4)..<(position + 4 + length)])
        position += 4 + length
        let message = try? coder.decode(payload)
        events.append(.frame(payload, message))
        if let bodyLength = announcedBody(message) {
            let available = UInt64(stream.count - position)
            let take = Int(min(bodyLength, available))
            events.append(.body(Array(stream[position..<(position + take)])))
            position += take
            if UInt64(take) < bodyLength {
                // The stream ended inside the body: nothing more to see.
                return events
            }
        }
    }
}

/// Piece sizes for feeding the stream, derived from the stream's own bytes.
struct Splitter {
    let stream: [UInt8]
    let mode: UInt8
    var zeroPending = false

    /// The size of the next piece starting at `position` (may be 0: an empty append).
    mutating func nextSize(at position: Int) -> Int {
        let remaining = stream.count - position
        let byte = Int(stream[position])
        switch mode & 3 {
        case 0:
            return remaining
        case 1:
            return 1
        case 2:
            let size = byte % 33
            if size == 0 {
                // An empty append, then at least one byte so that the loop always advances.
                if zeroPending { zeroPending = false; return 1 }
                zeroPending = true
                return 0
            }
            return min(size, remaining)
        default:
            return min((byte << 4) + 1, remaining)
        }
    }
}

/// Feeds `stream` to a FrameDecoder piece by piece, as MessageChannel does, and records the events.
func chunkedEvents(_ stream: [UInt8], mode: UInt8, limit: Int, coder: MessageCoder) -> [StreamEvent] {
    var decoder = FrameDecoder(maximumLength: limit)
    precondition(decoder.maximumLength == limit)
    precondition(decoder.bufferedCount == 0 && !decoder.hasPartialFrame)
    var splitter = Splitter(stream: stream, mode: mode)
    var events: [StreamEvent] = []
    var position = 0
    var pieceIndex = 0

    /// Bytes of the body in progress still to come, and those received so far.
    var bodyRemaining: UInt64 = 0
    var body: [UInt8] = []

    /// Takes body bytes buffered in the decoder, in takeBuffered calls of a size derived from the stream.
    func drainBufferedBody() {
        while bodyRemaining > 0 && decoder.bufferedCount > 0 {
            let before = decoder.bufferedCount
            let hint = stream.isEmpty ? 1 : Int(stream[(position + body.count) % stream.count])
            // Sometimes ask for 0 or for more than is buffered; always make progress eventually.
            let ask = hint % 7 == 0 ? 0 : Int(min(bodyRemaining, UInt64((hint << 6) + 1)))
            let piece = decoder.takeBuffered(upTo: ask)
            precondition(piece.count == min(ask, before), "takeBuffered returned \(piece.count) of \(before) for \(ask)")
            precondition(decoder.bufferedCount == before - piece.count, "takeBuffered lost bytes")
            body.append(contentsOf: piece)
            bodyRemaining -= UInt64(piece.count)
            if ask == 0 {
                // Then take the rest the way MessageChannel does.
                let rest = decoder.takeBuffered(upTo: Int(min(bodyRemaining, UInt64(Int.max))))
                body.append(contentsOf: rest)
                bodyRemaining -= UInt64(rest.count)
            }
        }
        if bodyRemaining == 0 {
            events.append(.body(body))
            body = []
        }
    }

    /// Drains whole frames. Returns false when the stream is over (error or truncated body).
    func drainFrames() -> Bool {
        while bodyRemaining == 0 {
            let payload: [UInt8]?
            do throws(WireError) {
                payload = try decoder.nextFrame()
            } catch {
                // The same error again: a failed decoder stays failed and consumes nothing.
                let before = decoder.bufferedCount
                do throws(WireError) {
                    _ = try decoder.nextFrame()
                    preconditionFailure("nextFrame threw \(error) once, then succeeded")
                } catch let again {
                    precondition(again == error, "nextFrame threw \(error), then \(again)")
                }
                precondition(decoder.bufferedCount == before)
                events.append(.failed(error))
                return false
            }
            guard let payload else { return true }
            precondition(!payload.isEmpty && payload.count <= limit, "frame of \(payload.count) bytes, limit \(limit)")
            let message = try? coder.decode(payload)
            if let message { checkRoundTrip(message, coder: coder) }
            events.append(.frame(payload, message))
            if let bodyLength = announcedBody(message) {
                bodyRemaining = bodyLength
                drainBufferedBody()
            }
        }
        return true
    }

    while position < stream.count {
        var size = splitter.nextSize(at: position)
        // A body in progress reads straight from the stream, past the decoder.
        if bodyRemaining > 0 {
            let direct = Int(min(bodyRemaining, UInt64(max(size, 1))))
            body.append(contentsOf: stream[position..<(position + direct)])
            bodyRemaining -= UInt64(direct)
            position += direct
            if bodyRemaining == 0 {
                events.append(.body(body))
                body = []
                if !drainFrames() { return events }
            }
            continue
        }
        size = min(size, stream.count - position)
        let piece = stream[position..<(position + size)]
        let before = decoder.bufferedCount
        if pieceIndex % 2 == 0 {
            piece.withUnsafeBytes { decoder.append($0) }
        } else {
            decoder.append(Array(piece))
        }
        precondition(decoder.bufferedCount == before + size, "append lost bytes")
        pieceIndex += 1
        position += size
        if !drainFrames() { return events }
    }
    if bodyRemaining > 0 {
        // The stream ended inside a body.
        events.append(.body(body))
        return events
    }
    precondition(decoder.hasPartialFrame == (decoder.bufferedCount > 0))
    events.append(.ended(partialFrame: decoder.hasPartialFrame))
    return events
}

func fuzzStream(_ stream: [UInt8], coder: MessageCoder) {
    let mode = stream.last ?? 0
    var limit = Frame.maximumLength
    if mode & 0x80 != 0 && stream.count >= 2 {
        limit = (Int(stream[0]) << 8 | Int(stream[1])) % Frame.maximumLength + 1
    }
    let expected = referenceEvents(stream, limit: limit, coder: coder)
    let actual = chunkedEvents(stream, mode: mode, limit: limit, coder: coder)
    if trace { log("stream (mode \(mode & 3), limit \(limit)): \(describe(actual))") }
    if actual != expected {
        fatalError("""
            FrameDecoder disagrees with the reference parse (mode \(mode & 3), limit \(limit)):
              expected \(describe(expected))
              actual   \(describe(actual))
            """)
    }
}

func describe(_ events: [StreamEvent]) -> String {
    events.map { event -> String in
        switch event {
        case .frame(let payload, let message): "frame(\(payload.count) bytes, \(message.map { $0.type } ?? "refused"))"
        case .body(let bytes): "body(\(bytes.count))"
        case .failed(let error): "failed(\(error))"
        case .ended(let partial): "ended(partial: \(partial))"
        }
    }.joined(separator: ", ")
}

// MARK: - Message round trip

/// A decoded message must encode, frame and decode back to itself, and encode the same way twice.
func checkRoundTrip(_ message: Message, coder: MessageCoder) {
    let payload: [UInt8]
    do { payload = try coder.encode(message) } catch { fatalError("a decoded \(message.type) message does not encode: \(error)") }
    precondition(payload.first == UInt8(ascii: "{"), "encoded message does not start with {")
    let again: Message
    do {
        again = try coder.decode(payload)
    } catch {
        fatalError("re-encoded \(message.type) message does not decode: \(error); payload \(hex(payload))")
    }
    if again != message {
        fatalError("round trip changed the message:\n  before \(message)\n  after  \(again)")
    }
    let payloadAgain = (try? coder.encode(again)) ?? []
    if payloadAgain != payload {
        fatalError("encoding is not stable:\n  first  \(hex(payload))\n  second \(hex(payloadAgain))")
    }

    // A message decoded from a frame can still encode larger (whitespace removed, but e.g. an unknown
    // entry kind becomes "other"): MessageCoder.frame must then throw, never trap or truncate.
    guard payload.count <= Frame.maximumLength else {
        do {
            _ = try coder.frame(message)
            fatalError("MessageCoder.frame accepted a payload of \(payload.count) bytes")
        } catch {
            return
        }
    }
    let frame: [UInt8]
    do { frame = try coder.frame(message) } catch { fatalError("MessageCoder.frame refused \(payload.count) bytes: \(error)") }
    precondition(frame.count == payload.count + Frame.headerSize)
    let prefix = Int(frame[0]) << 24 | Int(frame[1]) << 16 | Int(frame[2]) << 8 | Int(frame[3])
    precondition(prefix == payload.count && Array(frame[4...]) == payload, "frame prefix or payload wrong")
    var decoder = FrameDecoder()
    decoder.append(frame)
    let framed: [UInt8]?
    do {
        framed = try decoder.nextFrame()
    } catch {
        fatalError("FrameDecoder refused MessageCoder.frame output: \(error)")
    }
    precondition(framed == payload, "FrameDecoder returned a different payload")
    precondition(decoder.bufferedCount == 0 && !decoder.hasPartialFrame, "bytes left after one frame")
}

// MARK: - SharePath

func fuzzSharePath(_ input: [UInt8]) {
    let raw = String(decoding: input, as: UTF8.self)
    let path: SharePath
    do throws(ErrorReply) {
        path = try SharePath(parsing: raw)
    } catch {
        if trace { log("path: refused: \(error.message)") }
        precondition(error.code == .invalidPath, "SharePath threw \(error.code), not invalid_path")
        return
    }
    if trace { log("path: \(path.components)") }
    precondition(raw.utf8.count <= SharePath.maximumBytes, "accepted a path of \(raw.utf8.count) bytes")
    precondition(raw.utf8.first != UInt8(ascii: "/"), "accepted an absolute path")
    precondition(path.components.count <= SharePath.maximumComponents,
                 "accepted \(path.components.count) components")
    for component in path.components {
        let bytes = Array(component.utf8)
        precondition(!bytes.isEmpty, "empty component in \(hex(input))")
        precondition(bytes != [0x2E], "\".\" component in \(hex(input))")
        precondition(bytes != [0x2E, 0x2E], "\"..\" component in \(hex(input))")
        precondition(!bytes.contains(UInt8(ascii: "/")), "\"/\" inside a component in \(hex(input))")
        precondition(!bytes.contains(UInt8(ascii: "\\")), "backslash inside a component in \(hex(input))")
        precondition(!bytes.contains(0), "NUL inside a component in \(hex(input))")
        precondition(!component.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F },
                     "control character inside a component in \(hex(input))")
        precondition(bytes.count <= SharePath.maximumComponentBytes,
                     "component of \(bytes.count) bytes in \(hex(input))")
        precondition(!TemporaryFile.isReserved(component), "reserved name accepted in \(hex(input))")
    }
    // The components are exactly the non-empty, non-"." pieces between "/" bytes.
    let expected = raw.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        .map { Array($0) }.filter { $0 != [0x2E] }
    precondition(path.components.map { Array($0.utf8) } == expected, "components differ from the byte split")
    precondition(path.isRoot == path.components.isEmpty)
    // A parsed path written back out parses to itself.
    if !path.isRoot {
        do {
            let reparsed = try SharePath(parsing: path.description)
            precondition(reparsed == path, "\(path) re-parses as \(reparsed)")
        } catch {
            fatalError("\(path) no longer parses: \(error)")
        }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes.prefix(512) {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self) + (bytes.count > 512 ? "…(\(bytes.count) bytes)" : "")
}

// MARK: - PROXY protocol header, addresses

func fuzzProxyHeader(_ input: [UInt8]) {
    switch ProxyHeader.parse(input) {
    case .needMore(let count):
        precondition(count > 0 && input.count + count <= ProxyHeader.maximumLength, "needMore(\(count)) after \(input.count) bytes")
    case .invalid:
        break
    case .header(let header, let length):
        if trace { log("proxy header: \(header), \(length) bytes") }
        precondition(length >= ProxyHeader.fixedLength && length <= min(input.count, ProxyHeader.maximumLength), "length \(length)")
        precondition(ProxyHeader.parse(input.prefix(length)) == .header(header, length: length), "the header alone parses differently")
        if case .needMore = ProxyHeader.parse(input.prefix(length - 1)) {} else {
            preconditionFailure("a header cut by one byte does not ask for more: \(hex(input))")
        }
        let encoded = header.encoded()
        precondition(ProxyHeader.parse(encoded) == .header(header, length: encoded.count), "\(header) does not round-trip")
    }
    let text = String(decoding: input.prefix(64), as: UTF8.self)
    if let address = IPAddress(text) {
        precondition(IPAddress(address.description) == address, "\(text) -> \(address) does not round-trip")
    }
    if let range = try? AddressRange(parsing: text) {
        precondition(range.contains(range.network), "\(range) does not hold its own network")
        precondition((try? AddressRange(parsing: range.description)) == range, "\(range) does not round-trip")
    }
}
