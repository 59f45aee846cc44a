import FerryWire
import Testing

/// A frame whose payload is `count` bytes derived from `seed`, so different frames differ.
private func payload(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0) &+ seed }
}

/// The 4-byte big-endian prefix announcing `length`, with no body.
private func prefix(_ length: UInt32) -> [UInt8] {
    [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16),
     UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
}

@Suite("FrameDecoder")
struct FrameDecoderTests {
    @Test("an empty decoder has nothing buffered and no frame")
    func empty() throws {
        var decoder = FrameDecoder()
        #expect(decoder.maximumLength == Frame.maximumLength)
        #expect(decoder.bufferedCount == 0)
        #expect(!decoder.hasPartialFrame)
        #expect(try decoder.nextFrame() == nil)
    }

    @Test("several frames coalesced in one append come out in order")
    func coalescedFrames() throws {
        let payloads = [payload(1, seed: 1), payload(10, seed: 2), payload(300, seed: 3), payload(2, seed: 4)]
        var decoder = FrameDecoder()
        decoder.append(try payloads.flatMap { try Frame.encode($0) })
        var received: [[UInt8]] = []
        while let frame = try decoder.nextFrame() { received.append(frame) }
        #expect(received == payloads)
        #expect(decoder.bufferedCount == 0)
        #expect(!decoder.hasPartialFrame)
    }

    @Test("a frame fed one byte at a time comes out once, only when complete")
    func byteByByte() throws {
        let body = payload(20, seed: 9)
        let frame = try Frame.encode(body)
        var decoder = FrameDecoder()
        var emitted: [[UInt8]] = []
        for (index, byte) in frame.enumerated() {
            decoder.append([byte])
            if let out = try decoder.nextFrame() {
                #expect(index == frame.count - 1, "frame emitted after only \(index + 1) of \(frame.count) bytes")
                emitted.append(out)
            } else {
                #expect(decoder.bufferedCount == index + 1)
                #expect(decoder.hasPartialFrame)
            }
        }
        #expect(emitted == [body])
        #expect(try decoder.nextFrame() == nil)
        #expect(!decoder.hasPartialFrame)
    }

    @Test("a frame split in two appends at every possible point decodes the same")
    func everySplitPoint() throws {
        let body = payload(17, seed: 40)
        let frame = try Frame.encode(body) + Frame.encode([0xAB])
        for split in 0...frame.count {
            var decoder = FrameDecoder()
            decoder.append(Array(frame[..<split]))
            var received: [[UInt8]] = []
            while let out = try decoder.nextFrame() { received.append(out) }
            decoder.append(Array(frame[split...]))
            while let out = try decoder.nextFrame() { received.append(out) }
            #expect(received == [body, [0xAB]], "split at \(split)")
            #expect(decoder.bufferedCount == 0, "split at \(split)")
        }
    }

    @Test("a length prefix of 0 is refused")
    func emptyFrame() {
        var decoder = FrameDecoder()
        decoder.append(prefix(0) + [0x7B])
        #expect(throws: WireError.emptyFrame) { try decoder.nextFrame() }
    }

    @Test("a length prefix over the limit is refused as soon as the prefix is in", arguments: [
        UInt32(65_537), 100_000, 0x0100_0000, 0x7FFF_FFFF, 0xFFFF_FFFF,
    ])
    func tooLarge(length: UInt32) {
        var decoder = FrameDecoder()
        decoder.append(prefix(length))
        #expect(decoder.bufferedCount == 4)
        #expect(throws: WireError.frameTooLarge(length: Int(length), limit: 65_536)) { try decoder.nextFrame() }
    }

    @Test("the largest frame is accepted")
    func largestFrame() throws {
        var decoder = FrameDecoder()
        let body = payload(Frame.maximumLength, seed: 3)
        decoder.append(prefix(UInt32(Frame.maximumLength)))
        #expect(try decoder.nextFrame() == nil)
        decoder.append(body)
        #expect(try decoder.nextFrame() == body)
    }

    @Test("a partial prefix is not judged yet")
    func partialPrefix() throws {
        var decoder = FrameDecoder()
        decoder.append([0xFF, 0xFF, 0xFF])
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.hasPartialFrame)
        decoder.append([0xFF])
        #expect(throws: WireError.frameTooLarge(length: 0xFFFF_FFFF, limit: 65_536)) { try decoder.nextFrame() }
    }

    @Test("a smaller maximumLength is enforced")
    func smallerLimit() throws {
        var decoder = FrameDecoder(maximumLength: 10)
        #expect(decoder.maximumLength == 10)
        decoder.append(try Frame.encode(payload(10)))
        #expect(try decoder.nextFrame() == payload(10))
        decoder.append(prefix(11))
        #expect(throws: WireError.frameTooLarge(length: 11, limit: 10)) { try decoder.nextFrame() }
    }

    @Test("takeBuffered hands over body bytes after a frame and leaves the rest")
    func takeBuffered() throws {
        let header = payload(5, seed: 1)
        let body: [UInt8] = [9, 8, 7, 6, 5, 4]
        let next = payload(3, seed: 100)
        var decoder = FrameDecoder()
        decoder.append(try Frame.encode(header) + body + Frame.encode(next))
        #expect(try decoder.nextFrame() == header)
        #expect(decoder.bufferedCount == body.count + 4 + next.count)

        #expect(Array(decoder.takeBuffered(upTo: 4)) == [9, 8, 7, 6])
        #expect(Array(decoder.takeBuffered(upTo: 2)) == [5, 4])
        #expect(decoder.bufferedCount == 4 + next.count)
        #expect(try decoder.nextFrame() == next)
        #expect(decoder.bufferedCount == 0)
    }

    @Test("takeBuffered returns at most what is buffered")
    func takeBufferedShort() throws {
        var decoder = FrameDecoder()
        decoder.append(try Frame.encode([1]) + [2, 3])
        #expect(try decoder.nextFrame() == [1])
        #expect(Array(decoder.takeBuffered(upTo: 100)) == [2, 3])
        #expect(decoder.takeBuffered(upTo: 100).isEmpty)
        #expect(decoder.takeBuffered(upTo: 0).isEmpty)
        #expect(decoder.bufferedCount == 0)
        #expect(!decoder.hasPartialFrame)
        // Body bytes arriving in a later append are handed over too.
        decoder.append([4, 5, 6])
        #expect(Array(decoder.takeBuffered(upTo: 2)) == [4, 5])
        #expect(decoder.bufferedCount == 1)
    }

    @Test("bufferedCount and hasPartialFrame track a partial frame")
    func partialFrameState() throws {
        var decoder = FrameDecoder()
        let frame = try Frame.encode(payload(8))
        decoder.append(Array(frame[..<6]))
        #expect(decoder.bufferedCount == 6)
        #expect(decoder.hasPartialFrame)
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedCount == 6, "nextFrame must not consume a partial frame")
        decoder.append(Array(frame[6...]))
        #expect(try decoder.nextFrame() == payload(8))
        #expect(decoder.bufferedCount == 0)
        #expect(!decoder.hasPartialFrame)
    }

    @Test("hundreds of kilobytes of frames in odd-sized appends stay in order across buffer compaction")
    func longStream() throws {
        let payloads = (0..<200).map { payload(1 + ($0 * 997) % 4000, seed: UInt8(truncatingIfNeeded: $0)) }
        let stream = try payloads.flatMap { try Frame.encode($0) }
        var decoder = FrameDecoder()
        var received: [[UInt8]] = []
        var offset = 0
        var step = 1
        while offset < stream.count {
            let end = min(stream.count, offset + step)
            decoder.append(Array(stream[offset..<end]))
            offset = end
            step = step % 9_973 + 1_231
            while let out = try decoder.nextFrame() { received.append(out) }
        }
        #expect(received == payloads)
        #expect(decoder.bufferedCount == 0)
    }

    @Test("append from a raw buffer works like append from an array")
    func appendRawBuffer() throws {
        let frame = try Frame.encode([1, 2, 3])
        var decoder = FrameDecoder()
        frame.withUnsafeBytes { decoder.append($0) }
        #expect(try decoder.nextFrame() == [1, 2, 3])
    }
}
