import FerryTLS

/// How a client secures its connection: TLS with the server's key trusted one of three ways, or clear
/// text (protocol 1, `--no-tls`) on a loopback or otherwise trusted link.
public enum ConnectionSecurity: Sendable {
    case clearText
    case tls(ServerTrust)
}

/// How a TLS client decides that the key it met belongs to the server it meant, the way OpenSSH does.
public enum ServerTrust: Sendable {
    /// Keys pinned in `knownHosts`. An unknown server is refused with `strict`; else `ask` decides
    /// (a question on a terminal), or, with no `ask`, the key is accepted (ssh's accept-new). A new key
    /// is recorded only after a login over the bound channel succeeded.
    case knownHosts(KnownHosts, strict: Bool, ask: (@Sendable (_ server: String, _ key: KeyFingerprint) -> Bool)?)
    /// Exactly this key, whatever known_hosts says; nothing is recorded.
    case fingerprint(KeyFingerprint)
    /// A certificate chain that verifies against these CA certificates (a PEM file, or the system's
    /// store for nil), issued for the host name; nothing is pinned or recorded.
    case authorities(file: String?)

    /// What OpenSSL is asked to verify in the handshake.
    var verification: TLSContext.Verification {
        switch self {
        case .knownHosts, .fingerprint: .pinning
        case .authorities(let file): file.map(TLSContext.Verification.authorityFile) ?? .systemAuthorities
        }
    }

    /// Checks the key `met` at `server` (`host:port`). Returns the key to record once the login has
    /// succeeded (first contact), or nil when there is nothing to record. Throws when the key is not
    /// trusted, before anything but the handshake has been sent.
    func check(_ met: KeyFingerprint?, server: String) throws(ClientError) -> KeyFingerprint? {
        switch self {
        case .authorities:
            return nil
        case .fingerprint(let expected):
            guard met == expected else {
                throw ClientError("\(server) presented the key \(met?.text ?? "(none)"), not the \(expected) given with --fingerprint; not connecting")
            }
            return nil
        case .knownHosts(let file, let strict, let ask):
            guard let met else { throw ClientError("\(server) presented no key") }
            if let recorded = try file.lookup(server) {
                guard recorded.fingerprint == met else {
                    throw ClientError(Self.changedKeyWarning(server: server, met: met, recorded: recorded, file: file.path))
                }
                return nil
            }
            if strict {
                throw ClientError("\(server) is not in \(file.path) and --strict is set; its key is \(met). Check it with `ferryd fingerprint` on the server, then connect once without --strict or add the line \"\(server) \(met)\"")
            }
            if let ask, !ask(server, met) {
                throw ClientError("the key of \(server) was not accepted; not connecting")
            }
            return met
        }
    }

    /// The loud message for a key that differs from the recorded one, in the manner of OpenSSH's.
    static func changedKeyWarning(server: String, met: KeyFingerprint, recorded: KnownHosts.Entry, file: String) -> String {
        """
        the key of \(server) does not match known_hosts
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        @    WARNING: THE KEY OF THIS FERRY SERVER HAS CHANGED!    @
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
        Someone could be intercepting this connection right now (a man in the middle),
        or the server's key was replaced.
        \(server) presented the key
            \(met)
        but line \(recorded.line) of \(file) records
            \(recorded.fingerprint)
        Nothing was sent to the server. If the key was replaced on purpose, check the new one on the
        server with `ferryd fingerprint --config CONFIG`, then remove line \(recorded.line) of \(file).
        """
    }
}
