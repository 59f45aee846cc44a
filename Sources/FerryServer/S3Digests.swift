import FerryCrypto
import Foundation

/// What ferryd keeps beside a file on object storage, in a small JSON object of its own, so that any
/// node serves a `fetch` or `get` without reading the file to hash it: the chunk digests (the manifest),
/// the MD5, and the modification time a client gave. It belongs to one version of the file, told by its
/// ETag and size: after any other write to the key, it no longer matches and is ignored.
struct S3Digests: Codable, Equatable {
    /// Digest objects are named this, then the file's name, in the file's directory.
    static let namePrefix = TemporaryFile.prefix + "digests-"

    var etag: String
    var size: UInt64
    /// Seconds since the epoch: the client's (`put -p`) or the time of the upload.
    var mtime: Int64
    var md5: String?
    /// The SHA-256 of every 4 MiB chunk, in order, as hex.
    var chunks: [String]

    init(etag: String, manifest: Manifest, mtime: Int64) {
        self.etag = etag
        size = manifest.size
        self.mtime = mtime
        md5 = manifest.md5?.hexString
        chunks = manifest.chunks.map(\.hexString)
    }

    init?(decoding bytes: [UInt8]) {
        guard let decoded = try? JSONDecoder().decode(S3Digests.self, from: Data(bytes)) else { return nil }
        self = decoded
    }

    func encoded() -> [UInt8] {
        (try? Array(JSONEncoder().encode(self))) ?? []
    }

    /// The manifest, when every digest is well formed.
    var manifest: Manifest? {
        let digests = chunks.compactMap { [UInt8](hexString: $0) }
        guard digests.count == chunks.count, digests.allSatisfy({ $0.count == 32 }) else { return nil }
        return Manifest(size: size, chunks: digests, md5: md5.flatMap { [UInt8](hexString: $0) })
    }
}
