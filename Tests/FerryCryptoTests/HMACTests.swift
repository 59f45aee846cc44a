import FerryCrypto
import Testing

@Test("RFC 4231 test case 1")
func hmacCase1() {
    let key = [UInt8](repeating: 0x0b, count: 20)
    #expect(HMAC.sha256(key: key, message: Array("Hi There".utf8)).hexString
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
}

@Test("RFC 4231 test case 2 (short key)")
func hmacCase2() {
    #expect(HMAC.sha256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)).hexString
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
}

@Test("RFC 4231 test case 6 (key longer than the block size)")
func hmacCase6() {
    let key = [UInt8](repeating: 0xaa, count: 131)
    let message = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
    #expect(HMAC.sha256(key: key, message: message).hexString
        == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
}

@Test("empty key and empty message")
func hmacEmpty() {
    // Widely published value of HMAC-SHA256("", "").
    #expect(HMAC.sha256(key: [], message: []).hexString
        == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
}
