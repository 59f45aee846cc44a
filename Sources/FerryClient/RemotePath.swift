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
}
