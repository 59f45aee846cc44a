import Foundation

/// Where the XDG base directory specification puts a user's files: under `$XDG_CONFIG_HOME`,
/// `$XDG_CACHE_HOME` or `$XDG_STATE_HOME` when it is an absolute path, else under `~/.config`,
/// `~/.cache` or `~/.local/state`.
enum XDGDirectory {
    /// `$XDG_CONFIG_HOME/ferry/NAME`, else `~/.config/ferry/NAME`.
    static func config(_ name: String, environment: [String: String]) -> String {
        base("XDG_CONFIG_HOME", else: ".config", environment: environment) + "/ferry/" + name
    }

    /// `$XDG_CACHE_HOME/ferry/NAME`, else `~/.cache/ferry/NAME`.
    static func cache(_ name: String, environment: [String: String]) -> String {
        base("XDG_CACHE_HOME", else: ".cache", environment: environment) + "/ferry/" + name
    }

    /// `$XDG_STATE_HOME/ferry/NAME`, else `~/.local/state/ferry/NAME`.
    static func state(_ name: String, environment: [String: String]) -> String {
        base("XDG_STATE_HOME", else: ".local/state", environment: environment) + "/ferry/" + name
    }

    /// `$HOME`, else the account's home directory.
    static func home(environment: [String: String]) -> String {
        environment["HOME"] ?? NSHomeDirectory()
    }

    private static func base(_ variable: String, else fallback: String, environment: [String: String]) -> String {
        environment[variable].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home(environment: environment) + "/" + fallback
    }
}
