import FerryWire
import Testing

@Suite("Frame.encode")
struct FrameTests {
    @Test("prefix is the payload length as 4 big-endian bytes", arguments: [
        (1, [0x00, 0x00, 0x00, 0x01] as [UInt8]),
        (3, [0x00, 0x00, 0x00, 0x03]),
        (258, [0x00, 0x00, 0x01, 0x02]),
        (515, [0x00, 0x00, 0x02, 0x03]),
        (65_535, [0x00, 0x00, 0xFF, 0xFF]),
        (65_536, [0x00, 0x01, 0x00, 0x00]),
    ])
    func bigEndianPrefix(length: Int, prefix: [UInt8]) throws {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let frame = try Frame.encode(payload)
        #expect(frame.count == Frame.headerSize + length)
        #expect(Array(frame.prefix(4)) == prefix)
        #expect(Array(frame.dropFirst(4)) == payload)
    }

    @Test("constants match the documented framing")
    func constants() {
        #expect(Frame.headerSize == 4)
        #expect(Frame.maximumLength == 65_536)
    }

    @Test("encoded frames round-trip through FrameDecoder", arguments: [1, 2, 100, 4096, 65_536])
    func roundTrip(length: Int) throws {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        var decoder = FrameDecoder()
        decoder.append(try Frame.encode(payload))
        let decoded = try decoder.nextFrame()
        #expect(decoded == payload)
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedCount == 0)
        #expect(!decoder.hasPartialFrame)
    }
}
