import CCurl

/// One libcurl easy handle, which keeps its HTTP connection to the object store alive from one request
/// to the next, and signs every request with libcurl's own AWS SigV4 (CURLOPT_AWS_SIGV4). Not for
/// sharing between threads: a session makes its own.
final class S3Connection {
    private let handle: UnsafeMutableRawPointer
    let settings: S3Settings
    /// How long a request may go without moving a byte.
    let stallTimeout: Int

    /// libcurl's global set-up, once per process, before the first handle.
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init(settings: S3Settings, stallSeconds: Int) throws(S3Error) {
        guard Self.initialized, let handle = curl_easy_init() else {
            throw S3Error(status: 0, code: "curl", message: "libcurl could not be initialised")
        }
        self.handle = handle
        self.settings = settings
        stallTimeout = max(stallSeconds, 1)
    }

    deinit { curl_easy_cleanup(handle) }

    /// What a request sends after its headers.
    enum Body {
        case none
        /// PUT these bytes (read by libcurl as it sends them; the caller keeps them alive).
        case upload(UnsafeRawBufferPointer)
        /// POST these bytes.
        case post([UInt8])
    }

    /// The answer to a request.
    struct Response {
        var status: Int
        /// Header names in lower case.
        var headers: [String: String]
        /// The body, when it was not written into the caller's buffer.
        var body: [UInt8]
        /// Bytes written into the caller's buffer.
        var received: Int

        var text: Substring { Substring(decoding: body, as: UTF8.self) }
    }

    /// Largest body kept in memory (a listing page, an error, a digests sidecar).
    static let maximumCollected = 64 << 20

    /// Sends one request for `key` (nil: the bucket itself) and returns the answer, whatever its status;
    /// a successful (2xx) body goes into `sink` when one is given. Throws only when no answer came.
    func perform(_ method: String, key: String?, query: [(String, String)] = [], headers: [String] = [],
                 body: Body = .none, sink: UnsafeMutableRawBufferPointer? = nil) throws(S3Error) -> Response {
        curl_easy_reset(handle)
        let state = TransferState(sink: sink)
        if case .upload(let bytes) = body { state.source = bytes }
        let context = Unmanaged.passUnretained(state).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        // Given, libcurl signs this value (and every x-amz- header) instead of a digest of the body it
        // cannot see when it streams one; S3 requires the header. The content is checked by Ferry's own
        // digests end to end. No header may be empty ("Expect:"): libcurl 7.88 would sign it wrongly.
        for header in headers + ["x-amz-content-sha256: UNSIGNED-PAYLOAD"] { list = curl_slist_append(list, header) }
        var url = settings.endpoint + "/" + S3KeyEncoding.encode(settings.bucket)
        if let key { url += "/" + S3KeyEncoding.encode(key) }
        if !query.isEmpty {
            // Sorted and each name given a value: what libcurl's canonical request expects.
            url += "?" + query.sorted { $0.0 < $1.0 }.map { "\(S3KeyEncoding.component($0.0))=\(S3KeyEncoding.component($0.1))" }
                .joined(separator: "&")
        }
        var codes: [CURLcode] = [
            ferry_curl_setopt_string(handle, CURLOPT_URL, url),
            ferry_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, "aws:amz:\(settings.region):s3"),
            ferry_curl_setopt_string(handle, CURLOPT_USERNAME, settings.accessKeyID),
            ferry_curl_setopt_string(handle, CURLOPT_PASSWORD, settings.secretAccessKey),
            ferry_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            ferry_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 10),
            ferry_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1),
            ferry_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, stallTimeout),
            // A part leaves in 1 MiB reads and writes, not the default 64 KiB.
            ferry_curl_setopt_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, 1 << 20),
            ferry_curl_setopt_list(handle, CURLOPT_HTTPHEADER, list),
            ferry_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, headerCallback),
            ferry_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context),
            ferry_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, writeCallback),
            ferry_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context),
        ]
        switch (method, body) {
        case ("HEAD", _):
            codes.append(ferry_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case ("PUT", _):
            codes += [
                ferry_curl_setopt_long(handle, CURLOPT_UPLOAD, 1),
                ferry_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(state.source?.count ?? 0)),
                ferry_curl_setopt_write_function(handle, CURLOPT_READFUNCTION, readCallback),
                ferry_curl_setopt_pointer(handle, CURLOPT_READDATA, context),
            ]
        case ("POST", .post(let bytes)):
            codes += [
                ferry_curl_setopt_long(handle, CURLOPT_POST, 1),
                ferry_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)),
                bytes.withUnsafeBytes { ferry_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)) },
            ]
        case ("POST", _):
            codes += [
                ferry_curl_setopt_long(handle, CURLOPT_POST, 1),
                ferry_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0),
                ferry_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""),
            ]
        case ("GET", _):
            break
        default:
            codes.append(ferry_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method))
        }
        if let failed = codes.first(where: { $0 != CURLE_OK }) {
            throw S3Error(status: 0, code: "curl", message: "cannot set up the request: \(String(cString: curl_easy_strerror(failed)))")
        }
        let result = curl_easy_perform(handle)
        if let error = state.error { throw error }
        guard result == CURLE_OK else {
            throw S3Error(status: 0, code: "curl", message: String(cString: curl_easy_strerror(result)))
        }
        var status = 0
        _ = ferry_curl_response_code(handle, &status)
        return Response(status: status, headers: state.headers, body: state.collected, received: state.written)
    }
}

/// What the callbacks of one request share: the bytes to send, where received bytes go, the headers.
private final class TransferState {
    var source: UnsafeRawBufferPointer?
    var sent = 0
    let sink: UnsafeMutableRawBufferPointer?
    var written = 0
    var collected: [UInt8] = []
    var headers: [String: String] = [:]
    var status = 0
    var error: S3Error?

    init(sink: UnsafeMutableRawBufferPointer?) { self.sink = sink }
}

private let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    guard let data, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        .trimmingCharacters(in: " \r\n")
    if line.hasPrefix("HTTP/") {
        // A new response (after a 100 Continue, say): its own headers.
        state.headers = [:]
        state.status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        state.headers[name] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " ")
    }
    return length
}

private let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    guard let data, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    if let sink = state.sink, (200..<300).contains(state.status) {
        guard state.written + length <= sink.count else {
            state.error = S3Error(status: state.status, code: "TooLong", message: "the object store sent more than the \(sink.count) bytes asked for")
            return 0
        }
        UnsafeMutableRawBufferPointer(rebasing: sink[state.written...]).copyMemory(from: bytes)
        state.written += length
    } else {
        guard state.collected.count + length <= S3Connection.maximumCollected else {
            state.error = S3Error(status: state.status, code: "TooLong", message: "an answer of the object store was larger than \(S3Connection.maximumCollected) bytes")
            return 0
        }
        state.collected.append(contentsOf: bytes)
    }
    return length
}

private let readCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    guard let data, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    guard let source = state.source else { return 0 }
    let length = min(size * count, source.count - state.sent)
    UnsafeMutableRawBufferPointer(start: data, count: length).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[state.sent..<(state.sent + length)]))
    state.sent += length
    return length
}

extension String {
    /// The string without `characters` at either end.
    func trimmingCharacters(in characters: String) -> String {
        var view = Substring(self)
        while let first = view.first, characters.contains(first) { view = view.dropFirst() }
        while let last = view.last, characters.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
