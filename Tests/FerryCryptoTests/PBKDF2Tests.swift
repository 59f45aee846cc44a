import FerryCrypto
import Testing

@Test("RFC 7914 section 11: P=passwd, S=salt, c=1, dkLen=64")
func pbkdf2RFC7914() {
    let key = PBKDF2.sha256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
    #expect(key.hexString == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
}

@Test("P=password, S=salt, c=4096, dkLen=32")
func pbkdf2Password4096() {
    let key = PBKDF2.sha256(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096, length: 32)
    #expect(key.hexString == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
}

@Test("output length, and a shorter output is a prefix of a longer one")
func pbkdf2Lengths() {
    let short = PBKDF2.sha256(password: Array("pw".utf8), salt: Array("s".utf8), iterations: 2, length: 7)
    let long = PBKDF2.sha256(password: Array("pw".utf8), salt: Array("s".utf8), iterations: 2, length: 40)
    #expect(short.count == 7)
    #expect(long.count == 40)
    #expect(Array(long.prefix(7)) == short)
    let otherSalt = PBKDF2.sha256(password: Array("pw".utf8), salt: Array("t".utf8), iterations: 2, length: 7)
    #expect(otherSalt != short)
}
