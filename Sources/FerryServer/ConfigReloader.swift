import FerryPosix
import Logging
import Synchronization

/// Keeps a running server in step with its config.ini, without a restart and without dropping a
/// connection.
///
/// Two things make it read the file again: SIGHUP (``reload(into:trigger:)``), and a client starting
/// to log in when the file has changed since it was last read (``reloadIfChanged(into:)``: one stat(2)
/// per login, comparing device, inode, size and modification time). The second is what lets a user
/// that `ferryd adduser` added or changed log in at once, with no pid file and no signal to send:
/// adduser, deluser and passwd replace the file by a rename, so the server reads the old file or the
/// new one, never half of one.
///
/// A file that does not load (a syntax error, a bad value, a root or transfer log that cannot be
/// opened) changes nothing: the running configuration stays, and one line in the log says where the
/// file is wrong (`config.ini:12: ...`). That version of the file is not tried again at logins
/// until it changes.
///
/// A reload changes the users (passwords, read_only, root, quota; added and removed ones) and every
/// `[server]` key but `listen`, `port` and `cache_dir`, and nothing of `[tls]`: those need a restart,
/// and a reload that finds them changed says so and keeps the running values. Connections keep what
/// they took (``LiveSettings``): a session logged in goes on as the user record it logged in with,
/// also when that user is removed, until it ends.
final class ConfigReloader: Sendable {
    /// The file, as given on the command line.
    let path: String
    /// The version of the file last read, whether it loaded or not. The lock is held while a reload
    /// runs, so logins that find the file changed wait for one reload rather than each doing one.
    private let seen: Mutex<FileVersion?>

    init(file: ConfigFile) {
        path = file.path
        seen = Mutex(file.version)
    }

    /// Reads the file and, if it loads, makes it the configuration in force; logs one line either way.
    func reload(into server: Server, trigger: String) {
        seen.withLock { seen in
            seen = load(into: server, trigger: trigger)
        }
    }

    /// Reloads when the file is not the version last read (or is gone, or is back).
    func reloadIfChanged(into server: Server) {
        let current = currentVersion()
        seen.withLock { seen in
            guard current != seen else { return }
            seen = load(into: server, trigger: "changed on disk")
        }
    }

    /// The version of the file now, nil when there is none.
    private func currentVersion() -> FileVersion? {
        try? FileVersion(FileStatus.of(path: path))
    }

    /// Loads the file into `server`; returns the version read (when it could not be read, the version
    /// there was just before), so that the same broken file is reported once.
    private func load(into server: Server, trigger: String) -> FileVersion? {
        let before = currentVersion()
        let file: ConfigFile
        do { file = try ConfigFile(path: path) } catch {
            server.logger.error("\(error); the running configuration stays")
            return before
        }
        let running = server.configuration
        var configuration = file.configuration
        let needRestart = Self.restartOnly(running: running, read: configuration)
        configuration.host = running.host
        configuration.port = running.port
        configuration.tls = running.tls
        configuration.cacheDirectory = running.cacheDirectory
        configuration.offersChunks = running.offersChunks
        let settings: LiveSettings
        do { settings = try LiveSettings(configuration: configuration, users: file.users) } catch {
            server.logger.error("\(error.invalid(in: file)); the running configuration stays")
            return file.version
        }
        let previousUsers = server.settings.users
        server.install(settings)
        var summary = "reloaded \(path) (\(trigger)): \(Self.changes(from: previousUsers, to: file.users))"
        if !needRestart.isEmpty {
            summary += "; \(needRestart.joined(separator: ", ")) changed, which takes a restart: ferryd goes on with the values it started with"
        }
        server.logger.notice("\(summary)")
        return file.version
    }

    /// The keys that differ between the running configuration and the one read but only change at a
    /// restart (the listening socket, the TLS key, the digest cache).
    static func restartOnly(running: ServerConfiguration, read: ServerConfiguration) -> [String] {
        var keys: [String] = []
        if read.host != running.host { keys.append("listen") }
        if read.port != running.port { keys.append("port") }
        if read.cacheDirectory != running.cacheDirectory { keys.append("cache_dir") }
        if read.tls != running.tls { keys.append("[tls]") }
        return keys
    }

    /// "3 users (added bob; removed carol; changed dave)", or "3 users, unchanged".
    static func changes(from before: UserStore, to after: UserStore) -> String {
        let added = after.names.filter { before[$0] == nil }
        let removed = before.names.filter { after[$0] == nil }
        let changed = after.names.filter { before[$0] != nil && before[$0] != after[$0] }
        let count = "\(after.count) user\(after.count == 1 ? "" : "s")"
        let parts = [("added", added), ("removed", removed), ("changed", changed)]
            .filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.joined(separator: ", "))" }
        return parts.isEmpty ? "\(count), unchanged" : "\(count) (\(parts.joined(separator: "; ")))"
    }
}
