import FerryS3
import FerryWire
import Foundation

extension ConfigFile {
    /// The `[storage]` section: `backend = local` (the default) or `backend = s3` with `endpoint`,
    /// `bucket`, `region`, `prefix` and the credentials, from `access_key_id` and `secret_access_key` or
    /// else from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment.
    static func storage(_ section: IniFile.Section?, file: String,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) -> StorageBackend {
        guard let section else { return .local }
        var reader = KeyReader(section, file: file)
        let backend = reader.string("backend") ?? "local"
        let endpoint = reader.string("endpoint")
        let bucket = reader.string("bucket")
        let region = reader.string("region") ?? "us-east-1"
        let prefix = reader.string("prefix") ?? ""
        let keyID = reader.string("access_key_id") ?? environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = reader.string("secret_access_key") ?? environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        try reader.rejectUnknown()
        func missing(_ key: String, _ what: String) -> Invalid {
            Invalid(file: file, line: section.line, reason: "[storage] backend = s3 needs \(key)\(what)")
        }
        switch backend {
        case "local":
            return .local
        case "s3":
            guard let endpoint else { throw missing("endpoint", " (such as http://127.0.0.1:8333)") }
            guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
                throw Invalid(file: file, line: section.keyLines["endpoint"] ?? section.line,
                              reason: "[storage] endpoint must start with http:// or https://")
            }
            guard let bucket else { throw missing("bucket", "") }
            guard let keyID else { throw missing("access_key_id", " (or AWS_ACCESS_KEY_ID in the environment)") }
            guard let secret else { throw missing("secret_access_key", " (or AWS_SECRET_ACCESS_KEY in the environment)") }
            let trimmed = prefix.split(separator: "/").joined(separator: "/")
            return .s3(S3Settings(endpoint: endpoint, bucket: bucket, region: region, prefix: trimmed,
                                  accessKeyID: keyID, secretAccessKey: secret))
        default:
            throw Invalid(file: file, line: section.keyLines["backend"] ?? section.line,
                          reason: "[storage] backend must be local or s3, not \(backend)")
        }
    }
}
