import FerryS3
import FerryWire

extension Session {
    /// `mkdir` on object storage: a zero-byte marker `DIR/`, which keeps an empty directory listed (and,
    /// with `parents`, one for every directory on the way).
    func s3MakeDirectory(_ request: MakeDirectory, store: S3Store) throws {
        _ = try writingUser()
        let path = try SharePath(parsing: request.path)
        let parents = request.parents ?? false
        guard !path.isRoot else {
            if parents { return try reply(.entry(EntryReply(entry: Entry(name: "/", kind: .directory, size: 0, mtime: 0, mode: Self.s3DirectoryMode)))) }
            throw ErrorReply(.alreadyExists, "the root exists already")
        }
        if !parents { try store.requireParent(of: path) }
        for count in (parents ? 1 : path.components.count)...path.components.count {
            let step = SharePath(components: Array(path.components.prefix(count)))
            switch try store.find(step) {
            case .file: throw ErrorReply(.notDirectory, "\(step) exists and is not a directory")
            case .directory:
                if count == path.components.count && !parents { throw ErrorReply(.alreadyExists, "\(step) exists already") }
            case .nothing:
                try store.call { () throws(S3Error) in try store.bucket.put(store.directoryKey(step), bytes: []) }
            }
        }
        logger.info("mkdir \(path)")
        try reply(.entry(EntryReply(entry: Entry(name: path.name, kind: .directory, size: 0, mtime: 0, mode: Self.s3DirectoryMode))))
    }

    /// `rm`, `rm -r` and `rmdir` on object storage: DELETE of the object and its digests, or of every key
    /// below the directory (only markers and digests, for `rmdir`).
    func s3Remove(_ raw: String, recursive: Bool, directoryOnly: Bool, store: S3Store) throws {
        _ = try writingUser()
        let path = try SharePath(parsing: raw)
        guard !path.isRoot else { throw ErrorReply(.permissionDenied, "the root cannot be removed") }
        var removed = Removed(files: 0, directories: 0, bytes: 0)
        switch try store.find(path) {
        case .nothing:
            throw ErrorReply(.notFound, "no such file or directory")
        case .file(let object):
            if directoryOnly { throw ErrorReply(.notDirectory, "\(path) is not a directory; rmdir removes only directories") }
            try store.call { () throws(S3Error) in
                try store.bucket.delete(store.key(path))
                try store.bucket.delete(store.digestsKey(path))
            }
            removed = Removed(files: 1, directories: 0, bytes: object.size)
        case .directory:
            if !directoryOnly && !recursive {
                throw ErrorReply(.isDirectory, "\(path) is a directory; rm removes one only with recursive (or rmdir, when it is empty)")
            }
            let prefix = store.directoryKey(path)
            let keys = try s3Keys(under: prefix, store: store)
            if directoryOnly, keys.contains(where: { $0.key != prefix && !S3Store.isHidden($0.key) && !$0.key.hasSuffix("/") }) {
                throw ErrorReply(.notEmpty, "\(path) is not empty")
            }
            for object in keys {
                try store.call { () throws(S3Error) in try store.bucket.delete(object.key) }
                if object.key.hasSuffix("/") {
                    removed.directories += object.key == prefix ? 0 : 1
                } else if !S3Store.isHidden(object.key) {
                    removed.files += 1
                    removed.bytes += object.size
                }
            }
            removed.directories += 1
        }
        logger.info("\(directoryOnly ? "rmdir" : recursive ? "rm -r" : "rm") \(path): \(removed.files) files, \(removed.directories) directories, \(removed.bytes) bytes")
        try reply(.removed(removed))
    }

    /// `rename` on object storage, which has no rename: CopyObject of every key (and its digests, with
    /// the copy's ETag), then DELETE of the originals. Not atomic: a failure part-way leaves both names,
    /// and a directory's files move one by one.
    func s3Rename(_ request: RenameRequest, store: S3Store) throws {
        let (from, to) = try renamePaths(request)
        guard !to.components.starts(with: from.components) else {
            throw ErrorReply(.invalidPath, "cannot move \(from) into itself")
        }
        let source = try store.find(from)
        try store.requireParent(of: to)
        let target = try store.find(to)
        switch (source, target) {
        case (.nothing, _):
            throw ErrorReply(.notFound, "no such file or directory: \(from)")
        case (_, .file), (_, .directory):
            guard request.replace == true else { throw ErrorReply(.alreadyExists, "\(to) exists already") }
            if case .file = source, case .directory = target { throw ErrorReply(.isDirectory, "\(to) is a directory") }
            if case .directory = source, case .file = target { throw ErrorReply(.notDirectory, "\(to) is not a directory") }
            if case .directory = target,
               try s3Keys(under: store.directoryKey(to), store: store).contains(where: { !$0.key.hasSuffix("/") && !S3Store.isHidden($0.key) }) {
                throw ErrorReply(.notEmpty, "\(to) is not empty")
            }
        default:
            break
        }
        switch source {
        case .file(let object):
            try s3Move(from, to: to, object: object, store: store)
        case .directory:
            let fromPrefix = store.directoryKey(from), toPrefix = store.directoryKey(to)
            for object in try s3Keys(under: fromPrefix, store: store) {
                let target = toPrefix + object.key.dropFirst(fromPrefix.count)
                try store.call { () throws(S3Error) in
                    try store.bucket.copy(object.key, to: target)
                    try store.bucket.delete(object.key)
                }
            }
        case .nothing:
            break
        }
        logger.info("rename \(from) -> \(to) (copy and delete)")
        let moved: Entry
        if case .file(let object) = source {
            moved = Entry(name: to.name, kind: .file, size: object.size, mtime: object.lastModified, mode: Self.s3FileMode)
        } else {
            moved = Entry(name: to.name, kind: .directory, size: 0, mtime: 0, mode: Self.s3DirectoryMode)
        }
        try reply(.entry(EntryReply(entry: moved)))
    }

    /// One file and its digests, to a new name.
    private func s3Move(_ from: SharePath, to: SharePath, object: S3Object, store: S3Store) throws(ErrorReply) {
        let digests = store.digests(of: from, object: object)
        try store.call { () throws(S3Error) in
            try store.bucket.copy(store.key(from), to: store.key(to))
        }
        if var digests, let copy = try store.call({ () throws(S3Error) in try store.bucket.head(store.key(to)) }) {
            digests.etag = copy.etag
            try store.storeDigests(digests, of: to)
        } else {
            try store.call { () throws(S3Error) in try store.bucket.delete(store.digestsKey(to)) }
        }
        try store.call { () throws(S3Error) in
            try store.bucket.delete(store.key(from))
            try store.bucket.delete(store.digestsKey(from))
        }
    }

    /// Every key below `prefix`.
    private func s3Keys(under prefix: String, store: S3Store) throws(ErrorReply) -> [S3Object] {
        var keys: [S3Object] = []
        var token: String?
        repeat {
            let page = try store.call { () throws(S3Error) in try store.bucket.list(prefix: prefix, delimiter: nil, continuation: token) }
            keys += page.objects
            token = page.continuation
        } while token != nil
        return keys
    }

    /// `df` on object storage: the quota used is the sum of the sizes listed under the user's prefix; a
    /// bucket has no disk to report, so free and total are 0 (the client prints n/a).
    func s3DiskUsage(store: S3Store) throws {
        try reply(.usage(Usage(quotaUsed: try store.usedBytes(), quota: user?.quota, diskFree: 0, diskTotal: 0)))
    }
}
