import FerryS3

/// Where the users' files live: a local directory (the default, `[server] root`), or a bucket of an
/// S3-compatible object store (`[storage] backend = s3`; see docs/STORAGE.md).
public enum StorageBackend: Sendable, Equatable {
    case local
    /// Every user's root is a prefix in this bucket: `prefix` for users without a `root`, and
    /// `prefix` + their `root` + `/` for the others.
    case s3(S3Settings)
}
