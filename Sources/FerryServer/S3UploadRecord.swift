import FerryCrypto
import FerryWire
import Foundation

/// What a cut `upload` to object storage leaves behind so that the same upload, on any node, goes on
/// where it stopped: the multipart upload it was filling, the ETags of the parts that arrived whole and
/// in order, the digests of the chunks in them, and the MD5 state after their last byte
/// (``ResumableMD5``) when the upload kept an MD5. Kept as a small JSON object beside the file, `DIR/.ferry-upload-multipart-NAME`
/// (a reserved name no client can use or see), and taken away (read, then deleted) by the upload that
/// resumes it, so that two uploads never fill one multipart upload.
struct S3UploadRecord: Codable, Equatable {
    /// Record objects are named this, then the file's name, in the file's directory.
    static let namePrefix = TemporaryFile.prefix + "multipart-"

    var uploadID: String
    /// The file's size: an upload of another size starts anew.
    var size: UInt64
    var partSize: Int
    /// The ETags of parts 1, 2, … that are held.
    var parts: [String]
    /// The SHA-256 of every chunk in those parts, in order, as hex.
    var chunks: [String]
    /// ``ResumableMD5/state`` after the last byte of the last held part, as hex; nil when the upload
    /// kept no MD5.
    var md5State: String?

    init?(decoding bytes: [UInt8]) {
        guard let decoded = try? JSONDecoder().decode(S3UploadRecord.self, from: Data(bytes)) else { return nil }
        self = decoded
    }

    init(uploadID: String, size: UInt64, partSize: Int, parts: [String], chunks: [[UInt8]], md5State: [UInt8]?) {
        self.uploadID = uploadID
        self.size = size
        self.partSize = partSize
        self.parts = parts
        self.chunks = chunks.map(\.hexString)
        self.md5State = md5State?.hexString
    }

    func encoded() -> [UInt8] {
        (try? Array(JSONEncoder().encode(self))) ?? []
    }

    /// The held chunks' digests, when the record is whole and consistent: as many chunks as the held
    /// parts cover, each 32 bytes, and an MD5 state, if any, that loads.
    var chunkDigests: [[UInt8]]? {
        let digests = chunks.compactMap { [UInt8](hexString: $0) }
        guard partSize > 0, partSize % ChunkGrid.size == 0, digests.count == chunks.count,
              digests.allSatisfy({ $0.count == 32 }), digests.count == parts.count * (partSize / ChunkGrid.size),
              UInt64(parts.count) * UInt64(partSize) < size, md5State == nil || md5 != nil else { return nil }
        return digests
    }

    /// The MD5 after the held parts, ready to go on; nil when none was kept.
    var md5: ResumableMD5? {
        md5State.flatMap { [UInt8](hexString: $0) }.flatMap { ResumableMD5(state: $0) }
    }
}
