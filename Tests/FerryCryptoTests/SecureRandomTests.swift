import FerryCrypto
import Testing

@Test("bytes(n) returns n bytes", arguments: [0, 1, 16, 24, 1000])
func randomLengths(count: Int) {
    #expect(SecureRandom.bytes(count).count == count)
}

@Test("two calls differ")
func randomDiffers() {
    #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    #expect(SecureRandom.nonce() != SecureRandom.nonce())
}

@Test("nonce is 32 printable characters without commas")
func nonceShape() {
    for _ in 0..<100 {
        let nonce = SecureRandom.nonce()
        #expect(nonce.utf8.count == 32)
        #expect(!nonce.contains(","))
        #expect(nonce.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7e })
    }
}

@Test("bytes are not all equal (catches a zero-filled buffer)")
func randomNotConstant() {
    let bytes = SecureRandom.bytes(64)
    #expect(Set(bytes).count > 1)
}
