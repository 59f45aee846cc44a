import FerryWire

extension Session {
    /// Why a connection that starts with a PROXY protocol header from an address that is not in
    /// `trusted_proxies` ends: the header could name any client, so it is believed from nobody else.
    static func untrustedProxyReason(_ handle: ConnectionHandle) -> String {
        "sent a PROXY protocol header, but \(handle.address) is not in trusted_proxies"
    }

    /// The `bad_request` such a connection gets, in clear, before it is closed.
    static func untrustedProxyReply(_ handle: ConnectionHandle) -> ErrorReply {
        ErrorReply(.badRequest, "this server takes a PROXY protocol header only from its trusted_proxies, and \(handle.address) is not one of them")
    }
}
