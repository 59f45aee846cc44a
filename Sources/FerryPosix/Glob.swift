#if canImport(Glibc)
import Glibc
#endif

/// Shell wildcards (`*`, `?`, `[…]`), as sh matches them: a leading dot is matched only by a dot.
public enum Glob {
    /// Whether `text` has a wildcard in it (a backslash escapes the next character).
    public static func hasWildcards(_ text: String) -> Bool {
        var escaped = false
        for character in text {
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if "*?[".contains(character) { return true }
        }
        return false
    }

    /// Whether the file name `name` matches `pattern` (fnmatch(3) with FNM_PERIOD).
    public static func matches(_ name: String, pattern: String) -> Bool {
        fnmatch(pattern, name, FNM_PERIOD) == 0
    }

    /// The local paths that `pattern` matches, sorted; `~` at its start is the home directory. Empty
    /// when nothing matches.
    public static func expand(_ pattern: String) throws(PosixError) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        switch Glibc.glob(pattern, GLOB_TILDE, nil, &result) {
        case 0:
            return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
        case GLOB_NOMATCH:
            return []
        case GLOB_NOSPACE:
            throw PosixError(code: ENOMEM, function: "glob")
        default:
            throw PosixError(code: EIO, function: "glob")
        }
    }
}
