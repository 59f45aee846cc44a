import ArgumentParser
import FerryPosix
import FerryServer
import FerryWire
import Foundation

/// config.ini as `adduser`, `deluser` and `passwd` change it.
///
/// The file is read and checked first: one that ferryd would not load is not touched (its error is
/// the one line printed). One `[user.NAME]` section is replaced or removed in the text, every other
/// line, comment and section staying as it was; the result is checked again, then written in place
/// of the file atomically (``AtomicFile/replace(_:with:)``: a temporary file beside it with the same
/// permission bits and owner, fsynced and renamed over it). A running ferryd reads the old file or the
/// new one, never half of one, and takes the change at the next login (or at SIGHUP).
struct ConfigEditor {
    /// The path as given on the command line.
    let path: String
    let file: ConfigFile
    private let ini: IniFile
    private var text: String { file.text }

    init(path: String) throws {
        self.path = path
        do { file = try ConfigFile(path: path) } catch { throw OneLine.failure("\(error)") }
        do { ini = try IniFile(parsing: file.text) } catch { throw OneLine.failure("\(path):\(error.line): \(error.reason)") }
    }

    /// The user `name`, which must exist.
    func existingUser(_ name: String) throws -> UserRecord {
        guard let user = file.users[name] else { throw OneLine.failure("ferryd: \(path) has no user \(name)") }
        return user
    }

    /// `key` of `[user.NAME]` as written (a root relative to the file stays relative), nil when unset.
    func written(_ key: String, ofUser name: String) -> String? {
        ini.section("user.\(name)")?.values[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Writes `record` as the section `[user.NAME]`, in place of the one there or at the end. Its
    /// root and quota are written as given (a root as text in the file's own terms).
    func store(_ record: UserRecord) throws {
        try write(IniFile.replacingSection("user.\(record.name)", in: text, with: ConfigFile.userSection(for: record)))
    }

    /// Removes the section `[user.NAME]`.
    func remove(_ name: String) throws {
        try write(IniFile.removingSection("user.\(name)", in: text))
    }

    private func write(_ updated: String) throws {
        // What ferryd would make of the result, before anything is written.
        do { _ = try ConfigFile(path: path, text: updated) } catch { throw OneLine.failure("ferryd: not written: the result would not load: \(error)") }
        // A symlinked config.ini stays a symlink: the file it leads to is the one replaced.
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        do { try AtomicFile.replace(target, with: Array(updated.utf8)) } catch {
            throw OneLine.failure("ferryd: cannot write \(path): \(error.reason)")
        }
    }
}
