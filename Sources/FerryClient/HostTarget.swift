/// A server as written on the command line or in FERRY_HOST: `[USER@]HOST[:PORT]`, as ssh and sftp
/// take it. An IPv6 address takes brackets when a port follows (`[::1]:8912`); a bare one (`::1`) is
/// the whole host, with no port. HOST may be a name, an address, or an alias from the client's config.
public struct HostTarget: Equatable, Sendable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int?

    /// The ports a client can connect to.
    public static let ports = 1...65535

    public init(user: String? = nil, host: String, port: Int? = nil) {
        self.user = user
        self.host = host
        self.port = port
    }

    /// Reads `[USER@]HOST[:PORT]`; throws saying what is wrong with `text`, quoted.
    public init(parsing text: String) throws(ClientError) {
        func invalid(_ why: String) -> ClientError { ClientError("\"\(text)\": \(why)") }
        guard !text.contains(where: \.isWhitespace) else { throw invalid("a server is written [user@]host[:port], without spaces") }
        var rest = Substring(text)
        if let at = rest.lastIndex(of: "@") {
            guard at > rest.startIndex else { throw invalid("no user name before the @") }
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("a [ without its ]") }
            let after = rest[rest.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw invalid("only :PORT may follow the ]") }
            if !after.isEmpty { portText = after.dropFirst() }
            rest = rest[rest.index(after: rest.startIndex)..<close]
        } else if rest.count(where: { $0 == ":" }) == 1, let colon = rest.firstIndex(of: ":") {
            portText = rest[rest.index(after: colon)...]
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { throw invalid("no host") }
        host = String(rest)
        if let portText {
            guard let number = Self.port(parsing: portText) else {
                throw invalid("the port must be a number from 1 to 65535, not \"\(portText)\"")
            }
            port = number
        }
    }

    /// A port written in decimal digits, within ``ports``; nil for anything else (a sign, spaces, 0).
    public static func port(parsing text: some StringProtocol) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
              let number = Int(text), ports.contains(number) else { return nil }
        return number
    }

    /// The target written back: brackets around an IPv6 address when a port follows.
    public var description: String {
        let name = port != nil && host.contains(":") ? "[\(host)]" : host
        return (user.map { $0 + "@" } ?? "") + name + (port.map { ":\($0)" } ?? "")
    }
}
