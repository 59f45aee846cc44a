import FerryCrypto
import FerryPosix

/// What ferryd serves with that a reload of config.ini may replace while it runs, as one immutable
/// value: the configuration, the users, their roots (opened) and the transfer log.
///
/// The server holds the current one (``Server/settings``). A connection takes the current one when it
/// is accepted (timeouts, chunk size, limits) and the user and root from the current one when it logs
/// in, and keeps them until it ends: a reload never changes what a session is doing under it.
final class LiveSettings: Sendable {
    let configuration: ServerConfiguration
    let users: UserStore
    /// The `[server] root`, for users without a root of their own; nil on object storage, where no
    /// local directory is served.
    let sharedRoot: ShareRoot?
    /// The users' own roots, by user name.
    let userRoots: [String: ShareRoot]
    let transferLog: TransferLog?
    /// Iterations offered to unknown users: the count most real users have, so it tells nothing.
    let unknownUserIterations: Int

    /// What could not be opened: a root, or the transfer log.
    enum OpenFailure: Error, CustomStringConvertible {
        case root(path: String, user: String?, PosixError)
        case transferLog(path: String, PosixError)

        var description: String {
            switch self {
            case .root(let path, nil, let error): "cannot open root \(path): \(error.reason)"
            case .root(let path, let user?, let error): "cannot open root \(path) of user \(user): \(error.reason)"
            case .transferLog(let path, let error): "cannot open transfer log \(path): \(error.reason)"
            }
        }
    }

    /// Opens the roots and the transfer log that `configuration` and `users` name.
    init(configuration: ServerConfiguration, users: UserStore) throws(OpenFailure) {
        self.configuration = configuration
        self.users = users
        var roots: [String: ShareRoot] = [:]
        if configuration.storage != .local {
            sharedRoot = nil
        } else {
            do { sharedRoot = try ShareRoot(path: configuration.root) } catch {
                throw .root(path: configuration.root, user: nil, error)
            }
        }
        for name in users.names where sharedRoot != nil {
            guard let path = users[name]?.root else { continue }
            do { roots[name] = try ShareRoot(path: path) } catch { throw .root(path: path, user: name, error) }
        }
        userRoots = roots
        if let path = configuration.transferLog {
            do { transferLog = try TransferLog(path: path) } catch { throw .transferLog(path: path, error) }
        } else {
            transferLog = nil
        }
        let counts = Dictionary(grouping: users.names.compactMap { users[$0]?.credentials.iterations }, by: { $0 })
        unknownUserIterations = counts.max { ($0.value.count, $1.key) < ($1.value.count, $0.key) }?.key
            ?? ScramCredentials.minimumIterations
    }

    /// The local root `user` works in; nil on object storage.
    func root(for user: UserRecord) -> ShareRoot? { userRoots[user.name] ?? sharedRoot }

    /// Where `user` works: their local root, or their prefix in the bucket.
    func storage(for user: UserRecord) -> UserStorage {
        if case .s3(let settings) = configuration.storage {
            return .s3(settings, prefix: settings.prefix + (user.root.map { $0.isEmpty ? "" : $0 + "/" } ?? ""))
        }
        return .local(root(for: user)!)
    }

    /// Every local root, by path.
    var roots: [String: ShareRoot] {
        guard let sharedRoot else { return [:] }
        var all = [configuration.root: sharedRoot]
        for (name, root) in userRoots { if let path = users[name]?.root { all[path] = root } }
        return all
    }
}

extension LiveSettings.OpenFailure {
    /// The same failure, at the line of `file` that names what could not be opened.
    func invalid(in file: ConfigFile) -> ConfigFile.Invalid {
        switch self {
        case .root(_, nil, _): file.invalid(description, key: "root", in: "server")
        case .root(_, let user?, _): file.invalid(description, key: "root", in: "user.\(user)")
        case .transferLog: file.invalid(description, key: "transfer_log", in: "server")
        }
    }
}
