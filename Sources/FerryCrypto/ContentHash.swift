/// A file's content hash: the SHA-256 of its chunk digests (each the SHA-256 of one 4 MiB chunk of the
/// grid), concatenated in order as 32-byte binary values. It names a file's content whatever the order
/// its chunks were hashed in, and an empty file's is the SHA-256 of nothing.
public enum ContentHash {
    /// The content hash of a file whose chunks have `digests`.
    public static func of(_ digests: [[UInt8]]) -> [UInt8] {
        let hash = Digest(.sha256)
        for digest in digests { hash.update(digest) }
        return hash.finalize()
    }

    /// The first 12 hex digits, for listings that a person compares by eye.
    public static func short(_ hex: String) -> String { String(hex.prefix(12)) }
}
