/// A request to the object store that failed: the service's answer (HTTP status and S3 error code), or
/// no answer at all (the connection failed, timed out).
public struct S3Error: Error, CustomStringConvertible, Sendable {
    /// The HTTP status, 0 when no answer came.
    public let status: Int
    /// The S3 error code (`NoSuchKey`, `AccessDenied`, ...), or libcurl's description of a transport failure.
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// True when the service answered that the key or bucket does not exist.
    public var isNotFound: Bool { status == 404 }

    public var description: String {
        status == 0 ? "cannot reach the object store: \(message)" : "\(code) (HTTP \(status))\(message.isEmpty ? "" : ": \(message)")"
    }

    /// What an operator should check, for a failed start-up probe of the bucket.
    public var startupReason: String {
        switch code {
        case "InvalidAccessKeyId", "AccessDenied": "access denied (check access_key_id)"
        case "SignatureDoesNotMatch": "the signature does not match (check secret_access_key and region)"
        case "NoSuchBucket": "no such bucket (create it first)"
        default: status == 0 ? "cannot connect: \(message)" : "\(self)"
        }
    }
}
