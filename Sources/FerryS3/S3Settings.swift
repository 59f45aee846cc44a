/// Where a bucket is and how to sign requests to it: the `[storage]` section of config.ini with
/// `backend = s3`.
public struct S3Settings: Sendable, Equatable {
    /// The service's base URL, such as `http://127.0.0.1:8333` or `https://s3.eu-west-1.amazonaws.com`.
    /// Requests use path-style addresses: `ENDPOINT/BUCKET/KEY`.
    public var endpoint: String
    public var bucket: String
    /// The region requests are signed for (SigV4); `us-east-1` unless told.
    public var region: String
    /// Prepended to every key: the part of the bucket this server uses, empty or ending in `/`.
    public var prefix: String
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(endpoint: String, bucket: String, region: String = "us-east-1", prefix: String = "",
                accessKeyID: String, secretAccessKey: String) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.region = region
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    /// `s3 bucket "NAME" at ENDPOINT`, how start-up errors name the bucket.
    public var described: String { "s3 bucket \"\(bucket)\" at \(endpoint)" }
}
