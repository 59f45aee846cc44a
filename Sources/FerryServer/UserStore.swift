import FerryCrypto

/// One account: what SCRAM needs to check a password (never the password itself) and what the user may do.
public struct UserRecord: Sendable, Equatable {
    public var name: String
    public var credentials: ScramCredentials
    public var readOnly: Bool
    /// The user's root directory, absolute; nil means the server's shared root.
    public var root: String?
    /// Most bytes the files under the user's root may hold together; nil for no limit.
    public var quota: UInt64?
    /// Bytes per second of file data that all of the user's sessions together may move, both ways;
    /// nil for no limit.
    public var rateLimit: UInt64?

    public init(name: String, credentials: ScramCredentials, readOnly: Bool = false, root: String? = nil, quota: UInt64? = nil,
                rateLimit: UInt64? = nil) {
        self.name = name
        self.credentials = credentials
        self.readOnly = readOnly
        self.root = root
        self.quota = quota
        self.rateLimit = rateLimit
    }

    /// User names are 1 to 64 characters of letters, digits, '.', '_' and '-', not starting with '.' or '-'.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), let first = name.utf8.first,
              first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

/// The accounts ferryd knows, by name.
public struct UserStore: Sendable {
    private var users: [String: UserRecord]

    public init(_ users: [UserRecord] = []) {
        self.users = Dictionary(users.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    public subscript(name: String) -> UserRecord? { users[name] }

    public var count: Int { users.count }

    public var names: [String] { users.keys.sorted() }
}
