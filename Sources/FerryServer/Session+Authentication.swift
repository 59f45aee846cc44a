import FerryCrypto
import FerryPosix
import FerryTransport
import FerryWire
import Foundation

extension Session {
    /// Runs the SCRAM exchange (SCRAM-SHA-256-PLUS over TLS, SCRAM-SHA-256 in clear text) within the login
    /// timeout, which runs from the accept. Returns the user and the root they work in on success (the
    /// session then counted in `server.status`; the caller uncounts it when it ends), nil after a failed login (already answered with `auth_failed`, after the configured delay) or a `bye`.
    ///
    /// An unknown user gets fake credentials derived from a per-process secret, so the exchange looks the
    /// same as for a real user with a wrong password, and fails the same way after the same delay.
    ///
    /// The user is looked up in the configuration in force when the exchange starts, after config.ini
    /// was read again if it changed (``Server/reloadIfChanged()``); user and root come from that one
    /// reading, and stay the session's until it ends.
    func authenticate() throws -> (UserRecord, UserStorage)? {
        func remaining() throws -> Duration {
            let left = loginDeadline - .now
            if left <= .zero { throw TimeoutError(operation: "login (\(configuration.loginTimeout.formattedSeconds) s)") }
            return left
        }
        while true {
            switch try channel.receive(timeout: remaining()) {
            case .authStart(let start):
                if try refusedForBan() { return nil }
                guard start.mechanism == mechanism else {
                    try reply(.error(ErrorReply(.unsupported, "authentication mechanism \"\(start.mechanism)\" is not supported here; use \(mechanism)")))
                    continue
                }
                return try exchange(start.message, remaining: remaining)
            case .bye:
                return nil
            default:
                try reply(.error(ErrorReply(.notAuthenticated, "log in first")))
            }
        }
    }

    private func exchange(_ clientFirstText: String, remaining: () throws -> Duration) throws -> (UserRecord, UserStorage)? {
        let clientFirst: ScramClientFirst
        do {
            clientFirst = try ScramClientFirst.parse(clientFirstText)
        } catch {
            try reply(.error(ErrorReply(.badRequest, "malformed SCRAM client-first message: \(error)")))
            throw ChannelClosed()
        }
        let channelBinding: [UInt8]?
        do { channelBinding = try bindingPolicy(clientFirst.channelBinding) } catch let refusal as ErrorReply {
            try reply(.error(refusal))
            throw ChannelClosed()
        }
        let name = clientFirst.username
        server.reloadIfChanged()
        let settings = server.settings
        // Fake credentials are derived for every name, known or not, so that the challenge takes the
        // same time either way and its timing does not tell which names exist.
        let fake = ScramServer.fakeCredentials(for: name, secret: server.unknownUserSecret)
        let known = UserRecord.isValidName(name) ? settings.users[name] : nil
        var credentials = known?.credentials ?? fake
        if known == nil { credentials.iterations = settings.unknownUserIterations }
        let scram = ScramServer(clientFirst: clientFirst, credentials: credentials, channelBindingData: channelBinding)
        try reply(.authChallenge(AuthMessage(message: scram.serverFirstMessage)))

        guard case .authFinish(let finish) = try channel.receive(timeout: remaining()) else {
            try reply(.error(ErrorReply(.badRequest, "expected auth_finish")))
            throw ChannelClosed()
        }
        do {
            let serverFinal = try scram.serverFinalMessage(clientFinal: finish.message)
            guard let user = known else { throw ScramError.invalidProof }
            // A ban that began while this exchange was under way counts too, even for a right guess.
            if try refusedForBan() { return nil }
            server.loginGuard.recordSuccess(from: handle.address, user: user.name)
            server.loggedIn(handle)
            // Counted before the client hears it is in, so that a status probe it sends next sees it.
            server.status.sessionOpened()
            do { try reply(.authOK(AuthOK(message: serverFinal, user: user.name, readOnly: user.readOnly))) } catch {
                server.status.sessionClosed()
                throw error
            }
            logger.info("login \(user.name)\(user.readOnly ? " (read-only)" : "")")
            return (user, settings.storage(for: user))
        } catch let error as ScramError {
            let mismatch = error == .channelBindingMismatch
            logger.warning("login failed for \(Self.loggable(name)): \(known == nil && !mismatch ? "unknown user" : "\(error)")")
            if server.loginGuard.recordFailure(from: handle.address, user: name) {
                logger.warning("banning \(handle.address) for \(server.loginGuard.duration.formattedSeconds) s after \(server.loginGuard.threshold) failed logins")
                server.closePendingLogins(from: handle.address, sparing: handle)
            }
            Thread.sleep(forTimeInterval: Double(configuration.failedLoginDelay.milliseconds) / 1000)
            try reply(.error(mismatch
                ? ErrorReply(.channelBindingMismatch, "channel binding does not match: the TLS channel this server sees is not the one you see, so something between us terminates TLS (a possible interception); nobody was logged in")
                : ErrorReply(.authFailed, "wrong user name or password")))
            return nil
        }
    }

    /// The channel binding data the client must present, or a refusal: over TLS only "p=tls-exporter" is
    /// accepted ("y" means the client did not see -PLUS offered: someone removed it, a downgrade), and
    /// in clear text nothing can be bound.
    private func bindingPolicy(_ flag: ScramChannelBinding) throws -> [UInt8]? {
        guard let tls else {
            guard flag != .tlsExporter else {
                throw ErrorReply(.badRequest, "channel binding needs TLS, and this server speaks clear text (protocol 1)")
            }
            return nil
        }
        switch flag {
        case .tlsExporter:
            return try tls.channelBinding()
        case .supportedButNotUsed:
            throw ErrorReply(.badRequest, "the client says this server offers no channel binding, but it offers \(Hello.scramSHA256Plus): someone altered the offer (a downgrade)")
        case .none:
            throw ErrorReply(.badRequest, "\(Hello.scramSHA256Plus) needs channel binding: send the gs2 header p=tls-exporter")
        }
    }

    /// Answers `banned` and returns true when this connection's address is banned now; the session
    /// then ends. Asked at every attempt, so connections opened before the ban get no more guesses.
    private func refusedForBan() throws -> Bool {
        guard let left = server.loginGuard.banRemaining(for: handle.address) else { return false }
        logger.notice("login attempt from banned \(handle.address) refused")
        try reply(.error(LoginGuard.refusal(of: handle.address, remaining: left)))
        return true
    }

    /// A user name as it may appear in a log line: cut at 64 bytes (whole scalars); the log handler
    /// escapes what a terminal or a log reader could misread.
    static func loggable(_ name: String) -> String {
        ErrorReply.cut(name, toBytes: 64)
    }
}
