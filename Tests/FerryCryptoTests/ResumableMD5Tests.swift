import FerryCrypto
import Testing

@Suite struct ResumableMD5Tests {
    static func digest(of bytes: [UInt8], savedAfter cuts: [Int]) -> [UInt8] {
        var md5 = ResumableMD5()
        var offset = 0
        for cut in cuts + [bytes.count] {
            bytes[offset..<cut].withUnsafeBytes { md5.update($0) }
            offset = cut
            // As if in another process: only the saved bytes go on.
            md5 = ResumableMD5(state: md5.state)!
        }
        return md5.digest()
    }

    @Test func aStateSavedAnywhereGoesOnToTheSameDigest() {
        let bytes = SecureRandom.bytes(1000)
        let whole = Digest.hash(.md5, bytes)
        // Block boundaries (64), inside a block, and more than once.
        for cuts in [[0], [64], [1], [63, 64, 65], [100, 500, 999], [1000]] {
            #expect(Self.digest(of: bytes, savedAfter: cuts) == whole, "cuts \(cuts)")
        }
        #expect(ResumableMD5().digest() == Digest.hash(.md5, []), "nothing fed")
    }

    @Test func digestLeavesTheMD5GoingOn() {
        let md5 = ResumableMD5()
        [UInt8]("abc".utf8).withUnsafeBytes { md5.update($0) }
        #expect(md5.digest().hexString == "900150983cd24fb0d6963f7d28e17f72")
        [UInt8]("def".utf8).withUnsafeBytes { md5.update($0) }
        #expect(md5.digest() == Digest.hash(.md5, Array("abcdef".utf8)))
    }

    @Test func aStateOfTheWrongLengthOrWithTooLongABlockIsRefused() {
        #expect(ResumableMD5(state: []) == nil)
        #expect(ResumableMD5(state: Array(repeating: 0, count: ResumableMD5.stateSize - 1)) == nil)
        var state = ResumableMD5().state
        #expect(state.count == ResumableMD5.stateSize)
        state[88] = 64   // `num`, the bytes waiting in the block: at most 63
        #expect(ResumableMD5(state: state) == nil)
    }
}
