import FerryWire

/// A path as a client names it, checked and split into components relative to the user's root.
///
/// Paths use "/" between components. Empty components and "." are dropped, so "" and "." name the root.
/// Refused outright: NUL and other control characters, backslashes, "..", absolute paths, components over
/// 255 bytes, more than 256 components, and the names Ferry reserves for its temporary files.
public struct SharePath: Equatable, Sendable, CustomStringConvertible {
    /// The components, none empty, ".", ".." or reserved.
    public let components: [String]

    public static let maximumComponentBytes = 255
    public static let maximumComponents = 256
    public static let maximumBytes = 4096

    public init(components: [String]) { self.components = components }

    /// Parses a client's path. Throws an `invalid_path` reply saying what is wrong.
    ///
    /// Every check works on bytes and scalars, never on Swift `Character`s: a "/" followed by a
    /// combining mark is one Character but two path bytes to the kernel, and must split the same way.
    public init(parsing raw: String) throws(ErrorReply) {
        guard raw.utf8.count <= Self.maximumBytes else {
            throw ErrorReply(.invalidPath, "path is longer than \(Self.maximumBytes) bytes")
        }
        guard raw.utf8.first != UInt8(ascii: "/") else {
            throw ErrorReply(.invalidPath, "absolute paths are not allowed; paths are relative to your root")
        }
        if let bad = raw.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ErrorReply(.invalidPath, "path contains a control character (U+\(String(bad.value, radix: 16, uppercase: true)))")
        }
        guard !raw.utf8.contains(UInt8(ascii: "\\")) else {
            throw ErrorReply(.invalidPath, "backslashes are not allowed in paths; use /")
        }
        var components: [String] = []
        for name in Self.components(of: raw) {
            if name == "." { continue }
            if name == ".." {
                throw ErrorReply(.invalidPath, "\"..\" is not allowed in paths")
            }
            if name.utf8.count > Self.maximumComponentBytes {
                throw ErrorReply(.invalidPath, "a path component is longer than \(Self.maximumComponentBytes) bytes")
            }
            if TemporaryFile.isReserved(name) {
                throw ErrorReply(.invalidPath, "names starting with \(TemporaryFile.prefix) are reserved")
            }
            components.append(name)
        }
        guard components.count <= Self.maximumComponents else {
            throw ErrorReply(.invalidPath, "path has more than \(Self.maximumComponents) components")
        }
        self.components = components
    }

    /// `text` split at every "/" byte, empty parts dropped.
    static func components(of text: String) -> [String] {
        text.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// True for the root itself.
    public var isRoot: Bool { components.isEmpty }

    /// The last component, or "/" for the root.
    public var name: String { components.last ?? "/" }

    public var description: String { components.isEmpty ? "/" : components.joined(separator: "/") }
}
