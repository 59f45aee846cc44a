extension S3Bucket {
    /// CreateMultipartUpload: begins an upload to `key`; nothing is visible there until it completes.
    public func createMultipartUpload(_ key: String) throws(S3Error) -> String {
        let text = try request("POST", key: key, query: [("uploads", "")]).text
        guard let id = S3XML.value("UploadId", in: text), !id.isEmpty else {
            throw S3Error(status: 200, code: "NoUploadId", message: "CreateMultipartUpload answered without an UploadId")
        }
        return id
    }

    /// UploadPart: part `number` (from 1) of the upload; returns the part's ETag.
    public func uploadPart(_ key: String, uploadID: String, number: Int, bytes: UnsafeRawBufferPointer) throws(S3Error) -> String {
        let response = try request("PUT", key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: .upload(bytes))
        return Self.unquoted(response.headers["etag"] ?? "")
    }

    /// CompleteMultipartUpload: the object appears, made of `parts` (their ETags, in order); returns its ETag.
    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadID: String, parts: [String]) throws(S3Error) -> String {
        var xml = "<CompleteMultipartUpload>"
        for (index, etag) in parts.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\"\(S3XML.escape(etag))\"</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let text = try request("POST", key: key, query: [("uploadId", uploadID)], body: .post(Array(xml.utf8))).text
        return Self.unquoted(S3XML.value("ETag", in: text) ?? "")
    }

    /// AbortMultipartUpload: its parts are dropped.
    public func abortMultipartUpload(_ key: String, uploadID: String) throws(S3Error) {
        let response = try connection.perform("DELETE", key: key, query: [("uploadId", uploadID)])
        guard (200..<300).contains(response.status) || response.status == 404 else { throw Self.error(response) }
    }

    /// ListParts: the parts of an upload sent so far, in ascending part number, every page; nil when the
    /// upload is no longer there (completed, aborted, or never begun).
    public func parts(of key: String, uploadID: String) throws(S3Error) -> [S3Part]? {
        var parts: [S3Part] = []
        var marker: String?
        repeat {
            var query = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try connection.perform("GET", key: key, query: query)
            if response.status == 404 { return nil }
            guard (200..<300).contains(response.status) else { throw Self.error(response) }
            let text = response.text
            for entry in S3XML.elements("Part", in: text) {
                parts.append(S3Part(number: Int(S3XML.value("PartNumber", in: entry) ?? "") ?? 0,
                                    etag: Self.unquoted(S3XML.value("ETag", in: entry) ?? ""),
                                    size: UInt64(S3XML.value("Size", in: entry) ?? "") ?? 0))
            }
            marker = S3XML.value("IsTruncated", in: text) == "true" ? S3XML.value("NextPartNumberMarker", in: text) : nil
        } while marker != nil
        return parts.sorted { $0.number < $1.number }
    }

    /// ListMultipartUploads under `prefix`, every page.
    public func pendingUploads(prefix: String) throws(S3Error) -> [S3PendingUpload] {
        var uploads: [S3PendingUpload] = []
        var markers: (key: String, id: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
            let text = try request("GET", key: nil, query: query).text
            for entry in S3XML.elements("Upload", in: text) {
                uploads.append(S3PendingUpload(
                    key: S3XML.value("Key", in: entry) ?? "", uploadID: S3XML.value("UploadId", in: entry) ?? "",
                    initiated: S3Time.iso8601(S3XML.value("Initiated", in: entry) ?? "") ?? 0
                ))
            }
            markers = nil
            if S3XML.value("IsTruncated", in: text) == "true", let key = S3XML.value("NextKeyMarker", in: text),
               let id = S3XML.value("NextUploadIdMarker", in: text) {
                markers = (key, id)
            }
        } while markers != nil
        return uploads
    }
}
