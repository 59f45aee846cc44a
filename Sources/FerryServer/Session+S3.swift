import FerryS3
import FerryWire

extension Session {
    /// Serves one command on object storage; false after `bye`. The session's connection to the bucket
    /// is made at its first command and kept to its end.
    func dispatch(_ message: Message, settings: S3Settings, prefix: String) throws -> Bool {
        if case .bye = message { return false }
        let store: S3Store
        if let open = objectStore {
            store = open
        } else {
            do {
                store = try S3Store(settings: settings, prefix: prefix, stallSeconds: Int(configuration.stallTimeout.components.seconds))
            } catch {
                throw S3Store.refusal(error)
            }
            objectStore = store
        }
        switch message {
        case .list(let request): try s3List(request, store: store)
        case .stat(let request): try s3Stat(request, store: store)
        case .get(let request): try transfer("get", request.path) { try s3Get(request, store: store) }
        case .put(let request): try transfer("put", request.path) { try s3Put(request, store: store) }
        case .fetch(let request): try transfer(request.chunks == [] ? "manifest" : "get", request.path) { try s3Fetch(request, store: store) }
        case .upload(let request): try transfer("put", request.path) { try s3Upload(request, store: store) }
        case .mkdir(let request): try s3MakeDirectory(request, store: store)
        case .rmdir(let request): try s3Remove(request.path, recursive: false, directoryOnly: true, store: store)
        case .rm(let request): try s3Remove(request.path, recursive: request.recursive == true, directoryOnly: false, store: store)
        case .rename(let request): try s3Rename(request, store: store)
        case .df: try s3DiskUsage(store: store)
        case .authStart, .authFinish:
            throw ErrorReply(.badRequest, "already logged in")
        default:
            throw ErrorReply(.badRequest, "unexpected message \"\(message.type)\"")
        }
        return true
    }

    /// Modes shown for what object storage holds, which keeps none.
    static let s3FileMode: UInt32 = 0o644
    static let s3DirectoryMode: UInt32 = 0o755

    /// `ls` on object storage: ListObjectsV2 with the delimiter `/`, page by page (1000 keys each), each
    /// "common prefix" a directory. Directories show mtime 0 (S3 keeps none); files their LastModified.
    func s3List(_ request: PathRequest, store: S3Store) throws {
        let path = try SharePath(parsing: request.path)
        let prefix = store.directoryKey(path)
        var batch: [Entry] = []
        var total = 0
        var truncated = false
        var exists = path.isRoot
        var token: String?
        pages: repeat {
            let page = try store.call { () throws(S3Error) in try store.bucket.list(prefix: prefix, delimiter: "/", continuation: token) }
            if !page.objects.isEmpty || !page.commonPrefixes.isEmpty { exists = true }
            var entries: [Entry] = []
            for common in page.commonPrefixes {
                let name = String(common.dropFirst(prefix.count).dropLast())
                guard !name.isEmpty, !TemporaryFile.isReserved(name) else { continue }
                entries.append(Entry(name: name, kind: .directory, size: 0, mtime: 0, mode: Self.s3DirectoryMode))
            }
            for object in page.objects {
                let name = String(object.key.dropFirst(prefix.count))
                // The directory's own marker, and Ferry's digests.
                guard !name.isEmpty, !TemporaryFile.isReserved(name) else { continue }
                entries.append(Entry(name: name, kind: .file, size: object.size, mtime: object.lastModified, mode: Self.s3FileMode))
            }
            for entry in entries {
                if total == configuration.maxListEntries {
                    truncated = true
                    break pages
                }
                batch.append(entry)
                total += 1
                if batch.count == Self.entriesPerFrame {
                    try reply(.listing(Listing(entries: batch, more: true)))
                    batch.removeAll(keepingCapacity: true)
                }
            }
            token = page.continuation
        } while token != nil
        if !exists {
            if case .file = try store.find(path) { throw ErrorReply(.notDirectory, "not a directory") }
            throw ErrorReply(.notFound, "no such directory: \(path)")
        }
        try reply(.listing(Listing(entries: batch, more: false, truncated: truncated ? true : nil)))
        logger.info("ls \(path): \(total) entries\(truncated ? " (truncated)" : "")")
    }

    /// `stat` on object storage: a HEAD, and the digests kept beside the file when they match it.
    func s3Stat(_ request: PathRequest, store: S3Store) throws {
        let path = try SharePath(parsing: request.path)
        let entry: Entry
        switch try store.find(path) {
        case .file(let object):
            let digests = store.digests(of: path, object: object)
            entry = Entry(name: path.name, kind: .file, size: object.size, mtime: digests?.mtime ?? object.lastModified,
                          contentHash: digests?.manifest?.contentHash.hexString, md5: digests?.md5, mode: Self.s3FileMode)
        case .directory:
            entry = Entry(name: path.name, kind: .directory, size: 0, mtime: 0, mode: Self.s3DirectoryMode)
        case .nothing:
            throw ErrorReply(.notFound, "no such file or directory")
        }
        try reply(.entry(EntryReply(entry: entry)))
    }
}
