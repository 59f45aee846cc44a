import FerryS3

/// Where one logged-in user's files are: a root directory on this machine, or a prefix in a bucket
/// (empty or ending in `/`) under which their paths are keys.
enum UserStorage {
    case local(ShareRoot)
    case s3(S3Settings, prefix: String)
}
