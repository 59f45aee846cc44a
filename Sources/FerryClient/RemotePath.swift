/// The shell's remote working directory arithmetic: paths are joined and normalised on the client,
/// so the server only ever sees clean paths relative to the user's root ("" for the root).
public enum RemotePath {
    /// Resolves `path` against `cwd` (both "/"-rooted displays of the user's root); ".." stops at the root.
    /// Returns the absolute display form, e.g. "/docs/report.pdf".
    public static func resolve(_ path: String, from cwd: String) -> String {
        var components = path.hasPrefix("/") ? [] : cwd.split(separator: "/").map(String.init)
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !components.isEmpty { components.removeLast() }
            default: components.append(String(part))
            }
        }
        return "/" + components.joined(separator: "/")
    }

    /// What to send to the server for an absolute display path: the same without the leading "/".
    public static func wire(_ absolute: String) -> String {
        String(absolute.drop { $0 == "/" })
    }

    /// Where `put -r LOCAL [REMOTE]` puts the tree, as scp -r does: an existing remote directory REMOTE
    /// receives a copy named `localName`; any other REMOTE is the copy itself; no REMOTE means a copy
    /// named `localName` in the root (or, in the shell, the remote working directory `cwd`).
    public static func treeTarget(local localName: String, remote: String?, cwd: String = "/", session: ClientSession) throws(ClientError) -> String {
        guard let remote else { return wire(resolve(localName, from: cwd)) }
        let target = wire(resolve(remote, from: cwd))
        if let entry = try? session.stat(target), entry.kind == .directory {
            return target.isEmpty ? localName : target + "/" + localName
        }
        return target
    }
}
