import FerryCrypto
import Testing

@Test("hexString is lowercase, two digits per byte")
func hexEncode() {
    #expect([UInt8]([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]).hexString == "00017f80abff")
    #expect([UInt8]().hexString == "")
}

@Test("round trip of all byte values")
func hexRoundTrip() {
    let bytes = (0...255).map { UInt8($0) }
    #expect([UInt8](hexString: bytes.hexString) == bytes)
    let random = SecureRandom.bytes(100)
    #expect([UInt8](hexString: random.hexString) == random)
}

@Test("upper case is accepted")
func hexUpperCase() {
    #expect([UInt8](hexString: "ABcdEF") == [0xab, 0xcd, 0xef])
    #expect([UInt8](hexString: "") == [])
}

@Test("invalid hex is rejected", arguments: ["0", "abc", "0g", "zz", " 0", "0x00", "é0", "é", "-1"])
func hexInvalid(text: String) {
    #expect([UInt8](hexString: text) == nil)
}
