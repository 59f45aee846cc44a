internal import COpenSSL

/// An MD5 whose state can be saved and carried on later, in another process or on another machine: a
/// multipart upload to object storage that is cut after some parts keeps the MD5 of the bytes in those
/// parts, so that the upload resumed later still checks the MD5 of the whole file without reading back
/// what it already sent. OpenSSL's EVP digests cannot be saved; this uses its `MD5_CTX` (the state is
/// the 23 32-bit words of that structure, little-endian, 92 bytes).
///
/// An instance has a single owner and is never used from two threads at once.
public final class ResumableMD5 {
    private var context = MD5_CTX()

    /// Bytes of a saved state.
    public static let stateSize = 23 * 4

    /// A new MD5 of no bytes.
    public init() {
        guard ferry_MD5_Init(&context) == 1 else { opensslFatal("MD5_Init") }
    }

    /// Goes on from a state given by ``state``; nil when `state` is not one (wrong length, or a
    /// partial block longer than a block).
    public init?(state: [UInt8]) {
        guard state.count == Self.stateSize else { return nil }
        let words = (0..<23).map { index in
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(state[index * 4 + $1]) << (8 * $1) }
        }
        guard words[22] < 64 else { return nil }
        (context.A, context.B, context.C, context.D, context.Nl, context.Nh) = (words[0], words[1], words[2], words[3], words[4], words[5])
        withUnsafeMutableBytes(of: &context.data) { data in
            for index in 0..<16 { data.storeBytes(of: words[6 + index], toByteOffset: index * 4, as: UInt32.self) }
        }
        context.num = words[22]
    }

    /// Feeds `bytes` in.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard ferry_MD5_Update(&context, base, bytes.count) == 1 else { opensslFatal("MD5_Update") }
    }

    /// The state after the bytes fed so far, to give to ``init(state:)``.
    public var state: [UInt8] {
        var words = [context.A, context.B, context.C, context.D, context.Nl, context.Nh]
        withUnsafeBytes(of: context.data) { data in
            for index in 0..<16 { words.append(data.load(fromByteOffset: index * 4, as: UInt32.self)) }
        }
        words.append(context.num)
        return words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    /// The MD5 of the bytes fed so far; the instance can go on being fed.
    public func digest() -> [UInt8] {
        var copy = context
        var output = [UInt8](repeating: 0, count: 16)
        guard ferry_MD5_Final(&output, &copy) == 1 else { opensslFatal("MD5_Final") }
        return output
    }
}
