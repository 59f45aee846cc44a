import FerryS3
import Foundation
import Logging

/// Aborts the multipart uploads that a crashed ferryd (on any node) left in the bucket: those begun
/// longer than `upload_resume_timeout` ago under the configured prefix. Run when the server starts and
/// then every half of that timeout, like the expiry of local partials. An upload is never resumed on
/// object storage, so nothing else would ever complete or abort them.
enum S3UploadSweeper {
    /// Returns how many were aborted.
    @discardableResult
    static func sweep(_ settings: S3Settings, olderThan timeout: Duration, logger: Logger) -> Int {
        let now = Int64(Date().timeIntervalSince1970)
        do {
            let bucket = try S3Bucket(settings: settings)
            var aborted = 0
            for upload in try bucket.pendingUploads(prefix: settings.prefix)
            where now - upload.initiated >= timeout.components.seconds {
                try bucket.abortMultipartUpload(upload.key, uploadID: upload.uploadID)
                aborted += 1
            }
            if aborted > 0 { logger.info("aborted \(aborted) multipart upload(s) older than \(timeout.formattedSeconds) s in \(settings.described)") }
            return aborted
        } catch {
            logger.warning("could not sweep orphaned multipart uploads in \(settings.described): \(error)")
            return 0
        }
    }
}
