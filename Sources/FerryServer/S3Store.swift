import FerryS3
import FerryWire

/// One session's way to a user's files on object storage: their prefix in the bucket, over the session's
/// own keep-alive connection. Paths map to keys one to one: `a/b.txt` is `PREFIX` + `a/b.txt`; a
/// directory is every key below `PREFIX` + `a/`, and an empty one is kept by a zero-byte marker of that
/// name; a file's digests are kept beside it in `.ferry-upload-digests-NAME` (``S3Digests``), a name no
/// client can use or see.
final class S3Store {
    let bucket: S3Bucket
    /// The user's root: empty or ending in `/`.
    let prefix: String

    init(settings: S3Settings, prefix: String, stallSeconds: Int) throws(S3Error) {
        bucket = try S3Bucket(settings: settings, stallSeconds: stallSeconds)
        self.prefix = prefix
    }

    /// The key of a file at `path`.
    func key(_ path: SharePath) -> String { prefix + path.components.joined(separator: "/") }

    /// The prefix of everything inside the directory `path` (its marker's key too).
    func directoryKey(_ path: SharePath) -> String { path.isRoot ? prefix : key(path) + "/" }

    /// The key of the digests of the file at `path`.
    func digestsKey(_ path: SharePath) -> String { Self.sidecarKey(of: key(path), namePrefix: S3Digests.namePrefix) }

    /// The key of the record of a cut upload to `path`.
    func uploadRecordKey(_ path: SharePath) -> String { Self.sidecarKey(of: key(path), namePrefix: S3UploadRecord.namePrefix) }

    /// The key of an object of Ferry's own beside the file at `key`: `DIR/NAME` gives `DIR/PREFIXNAME`.
    static func sidecarKey(of key: String, namePrefix: String) -> String {
        guard let slash = key.lastIndex(of: "/") else { return namePrefix + key }
        return key[...slash] + namePrefix + key[key.index(after: slash)...]
    }

    /// What is at a path.
    enum Found {
        case file(S3Object)
        case directory
        case nothing
    }

    func find(_ path: SharePath) throws(ErrorReply) -> Found {
        if path.isRoot { return .directory }
        if let object = try call({ () throws(S3Error) in try bucket.head(key(path)) }) { return .file(object) }
        return try hasKeys(under: directoryKey(path)) ? .directory : .nothing
    }

    /// Whether any key starts with `prefix`.
    func hasKeys(under prefix: String) throws(ErrorReply) -> Bool {
        let page = try call { () throws(S3Error) in try bucket.list(prefix: prefix, delimiter: nil, continuation: nil, maxKeys: 1) }
        return !page.objects.isEmpty
    }

    /// Checks that every directory above `path` exists (as `put` and `mkdir` without `-p` need).
    func requireParent(of path: SharePath) throws(ErrorReply) {
        guard path.components.count > 1 else { return }
        let parent = SharePath(components: Array(path.components.dropLast()))
        switch try find(parent) {
        case .directory: return
        case .file: throw ErrorReply(.notDirectory, "\(parent) is not a directory")
        case .nothing: throw ErrorReply(.notFound, "no such directory: \(parent)")
        }
    }

    /// The bytes of the files under the user's root: what counts against the quota.
    func usedBytes() throws(ErrorReply) -> UInt64 {
        var total: UInt64 = 0
        try call { () throws(S3Error) in
            do {
                try bucket.forEachPage(prefix: prefix) { page in
                    for object in page.objects where !Self.isHidden(object.key) { total += object.size }
                }
            } catch let error as S3Error { throw error } catch { throw S3Error(status: 0, code: "internal", message: "\(error)") }
        }
        return total
    }

    /// True for keys clients never see: digests and anything else of Ferry's own.
    static func isHidden(_ key: String) -> Bool {
        let name = key.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? key
        return TemporaryFile.isReserved(name)
    }

    /// The digests stored for `object`, nil when there are none or they belong to another version.
    func digests(of path: SharePath, object: S3Object) -> S3Digests? {
        guard let bytes = try? bucket.getSmall(digestsKey(path)), let digests = S3Digests(decoding: bytes),
              digests.etag == object.etag, digests.size == object.size else { return nil }
        return digests
    }

    /// Stores the digests of the file at `path` beside it.
    func storeDigests(_ digests: S3Digests, of path: SharePath) throws(ErrorReply) {
        let bytes = digests.encoded()
        try call { () throws(S3Error) in try bucket.put(digestsKey(path), bytes: bytes) }
    }

    /// Runs a request, turning its failure into a reply for the client.
    @discardableResult
    func call<T>(_ body: () throws(S3Error) -> T) throws(ErrorReply) -> T {
        do { return try body() } catch {
            throw Self.refusal(error)
        }
    }

    static func refusal(_ error: S3Error) -> ErrorReply {
        switch error.status {
        case 404: ErrorReply(.notFound, "no such file or directory")
        case 412: ErrorReply(.fileChanged, "the file changed while it was being sent; try again")
        default: ErrorReply(.internal, "object store: \(error)")
        }
    }
}
