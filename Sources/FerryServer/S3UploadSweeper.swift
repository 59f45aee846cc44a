import FerryS3
import Foundation
import Logging

/// Aborts the multipart uploads that a crashed ferryd (on any node) left in the bucket: those begun
/// longer than `upload_resume_timeout` ago under the configured prefix. Run when the server starts and
/// then every half of that timeout, like the expiry of local partials: a cut upload waits that long for
/// its client to resume it (``S3UploadRecord``), and an upload of a crashed node would wait forever.
/// The record of each upload aborted goes with it.
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
                // Its record, unless that is another upload's (a newer one of the same name).
                let recordKey = S3Store.sidecarKey(of: upload.key, namePrefix: S3UploadRecord.namePrefix)
                if let bytes = try bucket.getSmall(recordKey), S3UploadRecord(decoding: bytes)?.uploadID ?? upload.uploadID == upload.uploadID {
                    try bucket.delete(recordKey)
                }
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
