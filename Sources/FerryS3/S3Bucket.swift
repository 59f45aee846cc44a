/// The S3 operations Ferry uses, on one bucket, over one keep-alive connection (so, one per thread).
/// Keys are full keys: the caller adds the configured prefix.
public final class S3Bucket {
    public let settings: S3Settings
    let connection: S3Connection

    /// A bucket over a connection of its own; no request is sent yet. `stallSeconds` bounds how long a
    /// request may move no byte.
    public init(settings: S3Settings, stallSeconds: Int = 60) throws(S3Error) {
        self.settings = settings
        connection = try S3Connection(settings: settings, stallSeconds: stallSeconds)
    }

    /// One signed request that must succeed (2xx).
    @discardableResult
    func request(_ method: String, key: String?, query: [(String, String)] = [], headers: [String] = [],
                 body: S3Connection.Body = .none, sink: UnsafeMutableRawBufferPointer? = nil) throws(S3Error) -> S3Connection.Response {
        let response = try connection.perform(method, key: key, query: query, headers: headers, body: body, sink: sink)
        guard (200..<300).contains(response.status) else { throw Self.error(response) }
        // S3 may answer 200 with an error document (CompleteMultipartUpload, CopyObject).
        if method == "POST" || headers.contains(where: { $0.hasPrefix("x-amz-copy-source") }),
           response.text.contains("<Error>") {
            throw Self.error(response)
        }
        return response
    }

    static func error(_ response: S3Connection.Response) -> S3Error {
        let text = response.text
        let code = S3XML.value("Code", in: text) ?? {
            switch response.status {
            case 403: "AccessDenied"
            case 404: "NotFound"
            default: "HTTP\(response.status)"
            }
        }()
        return S3Error(status: response.status, code: code, message: S3XML.value("Message", in: text) ?? "")
    }

    /// Checks at start-up that the bucket is there and these credentials may list it, sign and all.
    public func check() throws(S3Error) {
        _ = try list(prefix: settings.prefix, delimiter: "/", continuation: nil, maxKeys: 1)
    }

    /// HEAD: the object, or nil when there is none.
    public func head(_ key: String) throws(S3Error) -> S3Object? {
        let response = try connection.perform("HEAD", key: key)
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else { throw Self.error(response) }
        return S3Object(
            key: key, size: UInt64(response.headers["content-length"] ?? "") ?? 0,
            etag: Self.unquoted(response.headers["etag"] ?? ""),
            lastModified: S3Time.httpDate(response.headers["last-modified"] ?? "") ?? 0
        )
    }

    /// ListObjectsV2: one page of the keys under `prefix`, grouped at `delimiter` when given.
    public func list(prefix: String, delimiter: String?, continuation: String?, maxKeys: Int? = nil) throws(S3Error) -> S3ListPage {
        var query = [("list-type", "2"), ("prefix", prefix)]
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuation { query.append(("continuation-token", continuation)) }
        if let maxKeys { query.append(("max-keys", "\(maxKeys)")) }
        let text = try request("GET", key: nil, query: query).text
        let objects = S3XML.elements("Contents", in: text).map { entry in
            S3Object(key: S3XML.value("Key", in: entry) ?? "", size: UInt64(S3XML.value("Size", in: entry) ?? "") ?? 0,
                     etag: Self.unquoted(S3XML.value("ETag", in: entry) ?? ""),
                     lastModified: S3Time.iso8601(S3XML.value("LastModified", in: entry) ?? "") ?? 0)
        }
        let prefixes = S3XML.elements("CommonPrefixes", in: text).compactMap { S3XML.value("Prefix", in: $0) }
        let truncated = S3XML.value("IsTruncated", in: text) == "true"
        return S3ListPage(objects: objects, commonPrefixes: prefixes,
                          continuation: truncated ? S3XML.value("NextContinuationToken", in: text) : nil)
    }

    /// Every object under `prefix`, page by page, each page handed to `body` (which may stop by throwing).
    public func forEachPage(prefix: String, delimiter: String? = nil, _ body: (S3ListPage) throws -> Void) throws {
        var token: String?
        repeat {
            let page = try list(prefix: prefix, delimiter: delimiter, continuation: token)
            try body(page)
            token = page.continuation
        } while token != nil
    }

    /// GET of bytes `range` of `key` into `buffer`; returns how many arrived. With `etag`, only from that
    /// version of the object (If-Match): another answers 412.
    public func get(_ key: String, range: Range<UInt64>, etag: String? = nil, into buffer: UnsafeMutableRawBufferPointer) throws(S3Error) -> Int {
        guard !range.isEmpty else { return 0 }
        let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(range.count)])
        var headers = ["Range: bytes=\(range.lowerBound)-\(range.upperBound - 1)"]
        if let etag { headers.append("If-Match: \"\(etag)\"") }
        let response = try connection.perform("GET", key: key, headers: headers, sink: slice)
        guard (200..<300).contains(response.status) else { throw Self.error(response) }
        return response.received
    }

    /// GET of a small object whole; nil when there is none.
    public func getSmall(_ key: String) throws(S3Error) -> [UInt8]? {
        let response = try connection.perform("GET", key: key)
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else { throw Self.error(response) }
        return response.body
    }

    /// PUT of a whole object from memory; returns its ETag.
    @discardableResult
    public func put(_ key: String, bytes: UnsafeRawBufferPointer) throws(S3Error) -> String {
        Self.unquoted(try request("PUT", key: key, body: .upload(bytes)).headers["etag"] ?? "")
    }

    /// PUT of a whole object from an array.
    @discardableResult
    public func put(_ key: String, bytes: [UInt8]) throws(S3Error) -> String {
        let result: Result<String, S3Error> = bytes.withUnsafeBytes { buffer in
            do throws(S3Error) { return .success(try put(key, bytes: buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// DELETE; deleting what is not there is no error (S3 answers 204 either way).
    public func delete(_ key: String) throws(S3Error) {
        let response = try connection.perform("DELETE", key: key)
        guard (200..<300).contains(response.status) || response.status == 404 else { throw Self.error(response) }
    }

    /// CopyObject within the bucket; returns the copy's ETag.
    @discardableResult
    public func copy(_ source: String, to target: String) throws(S3Error) -> String {
        let from = "/" + S3KeyEncoding.encode(settings.bucket) + "/" + S3KeyEncoding.encode(source)
        let text = try request("PUT", key: target, headers: ["x-amz-copy-source: \(from)"], body: .upload(UnsafeRawBufferPointer(start: nil, count: 0))).text
        return Self.unquoted(S3XML.value("ETag", in: text) ?? "")
    }

    static func unquoted(_ etag: String) -> String {
        etag.trimmingCharacters(in: "\"")
    }
}
