/// Calls `body` with a pointer that is never nil, even for an empty array.
///
/// Swift may hand out a nil `baseAddress` for empty buffers, and some OpenSSL
/// entry points reject a NULL pointer even when the length is zero.
func withNonNullBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
    bytes.withUnsafeBufferPointer { buffer in
        if let base = buffer.baseAddress, !buffer.isEmpty {
            return body(base, buffer.count)
        }
        var placeholder: UInt8 = 0
        return withUnsafePointer(to: &placeholder) { body($0, 0) }
    }
}
