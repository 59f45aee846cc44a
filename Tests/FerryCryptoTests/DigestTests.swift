import FerryCrypto
import Testing

private func md5(_ s: String) -> String { Digest.hash(.md5, Array(s.utf8)).hexString }
private func sha256(_ s: String) -> String { Digest.hash(.sha256, Array(s.utf8)).hexString }

@Test("MD5 test suite from RFC 1321 appendix A.5")
func md5RFC1321() {
    #expect(md5("") == "d41d8cd98f00b204e9800998ecf8427e")
    #expect(md5("a") == "0cc175b9c0f1b6a831c399e269772661")
    #expect(md5("abc") == "900150983cd24fb0d6963f7d28e17f72")
    #expect(md5("message digest") == "f96b697d7cb7938d525a2f31aaf161d0")
    #expect(md5("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b")
    #expect(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        == "d174ab98d277d9f5a5611c2c9f419d9f")
    #expect(md5(String(repeating: "1234567890", count: 8)) == "57edf4a22be3c955ac49da2e2107b67a")
}

@Test("SHA-256 examples from FIPS 180-2")
func sha256FIPS() {
    #expect(sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
}

@Test("digest sizes", arguments: [(DigestAlgorithm.md5, 16), (.sha256, 32)])
func digestSizes(algorithm: DigestAlgorithm, size: Int) {
    #expect(Digest.hash(algorithm, []).count == size)
    #expect(Digest.hash(algorithm, [1, 2, 3]).count == size)
}

@Test("streaming in odd-sized pieces equals one-shot", arguments: [DigestAlgorithm.md5, .sha256])
func streamingOddPieces(algorithm: DigestAlgorithm) {
    let message = Array("The quick brown fox jumps over the lazy dog, again and again and again.".utf8)
    let digest = Digest(algorithm)
    var offset = 0
    var size = 1
    while offset < message.count {
        let end = min(offset + size, message.count)
        digest.update(Array(message[offset..<end]))
        offset = end
        size += 2
    }
    #expect(digest.finalize() == Digest.hash(algorithm, message))
}

@Test("100 KB in random-size pieces (including empty ones) equals one-shot", arguments: [DigestAlgorithm.md5, .sha256])
func streamingRandomPieces(algorithm: DigestAlgorithm) {
    let buffer = SecureRandom.bytes(100 * 1024)
    var rng = SystemRandomNumberGenerator()
    let digest = Digest(algorithm)
    var offset = 0
    while offset < buffer.count {
        let end = min(offset + Int.random(in: 0...4099, using: &rng), buffer.count)
        buffer[offset..<end].withUnsafeBytes { digest.update($0) }
        offset = end
    }
    let streamed = digest.finalize()
    #expect(streamed == Digest.hash(algorithm, buffer))
    // Sanity: a one-byte change alters the digest, so the comparison above is meaningful.
    var changed = buffer
    changed[changed.count / 2] ^= 1
    #expect(streamed != Digest.hash(algorithm, changed))
}

@Test("one million 'a' fed in 1,000-byte pieces (FIPS 180-2 / RFC 1321 long vectors)")
func millionA() {
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    let sha = Digest(.sha256)
    let md = Digest(.md5)
    for _ in 0..<1000 {
        sha.update(chunk)
        md.update(chunk)
    }
    #expect(sha.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    #expect(md.finalize().hexString == "7707d6ae4e027c70eea2a935c2296f21")
}

@Test("empty buffers and nil base addresses are accepted")
func emptyUpdates() {
    let digest = Digest(.sha256)
    digest.update(UnsafeRawBufferPointer(start: nil, count: 0))
    digest.update([])
    digest.update(Array("abc".utf8))
    digest.update(UnsafeRawBufferPointer(start: nil, count: 0))
    #expect(digest.finalize().hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}

@Test("a digest can be finalized on another task than the one that created it")
func handOffBetweenTasks() async {
    let digest = Digest(.md5)
    digest.update(Array("a".utf8))
    let result = await Task.detached { digest.finalize() }.value
    #expect(result.hexString == "0cc175b9c0f1b6a831c399e269772661")
}

@Test("update after finalize is a programmer error")
func updateAfterFinalizeTraps() async {
    await #expect(processExitsWith: .failure) {
        let digest = Digest(.sha256)
        _ = digest.finalize()
        digest.update([1])
    }
}
