import FerryPosix
import FerryWire

/// The lines `ferry stat` prints for a remote entry, and `ferry sum` for a local file: the digests in
/// the same words, so that a person can compare the two by eye.
public enum StatFormat {
    public static func lines(path: String, entry: Entry, manifest: RemoteManifest?) -> [String] {
        var lines = [
            "path: \(path)",
            "kind: \(entry.kind.rawValue)",
            "size: \(entry.size) (\(ByteFormat.size(entry.size)))",
            "mtime: \(ListingFormat.timestamp(entry.mtime)) UTC",
        ]
        if let manifest {
            lines.append("md5: \(manifest.md5 ?? "-")")
            lines.append("content hash: \(manifest.contentHash)")
            lines.append("chunks: \(manifest.chunks.count) of 4 MiB")
        } else if entry.kind == .file {
            lines.append("md5: \(entry.md5 ?? "- (an older server computes none here)")")
        }
        return lines
    }
}

/// `ferry sum`: the digests of one local file, from the local cache or computed on every core.
public enum LocalSum {
    /// `CONTENT-HASH  MD5  PATH`, as sha256sum lays out its lines.
    public static func line(for path: String, cache: LocalDigests) throws(ClientError) -> String {
        do {
            let file = try File.openForReading(path: path)
            guard try FileStatus.of(file).kind == .file else { throw ClientError("not a regular file") }
            let digests = try cache.digests(of: file, md5: true)
            return "\(digests.contentHash)  \(digests.md5 ?? "-")  \(path)"
        } catch let error as ClientError {
            throw error
        } catch let error as PosixError {
            throw ClientError(error.reason)
        } catch {
            throw ClientError("\(error)")
        }
    }
}
