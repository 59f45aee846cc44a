import FerryServer
import FerryWire
import Foundation
import Testing

/// Real SCRAM-SHA-256 verifiers (from the shipped config.ini), as base64.
private let demoUser = """
    salt = b+hfK3tCbevQpb4NF9/Zng==
    iterations = 4096
    stored_key = UXqrpJI04ZzE3sT/VbHBEtZ51XWdrQVulgOXaRhVXRc=
    server_key = VHeE2VltsmO4iZQ7lRDk4pVi76JzHiLB3K5L+TNb/7s=
    """
private let guestKeys = """
    salt = P9hQnK9zKlsMZhWVM5Dn5g==
    stored_key = kXsb4XGsVY4gufKI0IwFnZeF9TegijrPsyPo5OlGK88=
    server_key = 7yAv6BCFE4oWvWds/kPfu8ziezIKH5dx8rkYZJ+VJJ4=
    """

private func bytes(_ base64: String) -> [UInt8] { Array(Data(base64Encoded: base64) ?? Data()) }

/// Writes `text` as config.ini in a fresh directory and loads it.
private func load(_ text: String, in directory: TemporaryDirectory) throws -> ConfigFile {
    try directory.write("config.ini", text)
    return try ConfigFile(path: directory.url("config.ini"))
}

@Suite("ConfigFile")
struct ConfigFileTests {
    @Test("every [server] key is read")
    func serverKeys() throws {
        let directory = try TemporaryDirectory()
        let config = try load("""
            # comment
            [server]
            listen = 0.0.0.0
            port = 0
            root = data/../served
            chunk_size = 4096
            max_connections = 3
            max_connections_per_address = 2
            login_timeout = 0.5
            idle_timeout = 1.2345
            stall_timeout = 0
            failed_login_delay = 2
            shutdown_grace = 86400
            max_header_size = 256
            max_list_entries = 7
            """, in: directory)
        let server = config.configuration
        #expect(config.path == directory.url("config.ini"))
        #expect(server.host == "0.0.0.0")
        #expect(server.port == 0)
        #expect(server.root == directory.path + "/served")
        #expect(server.chunkSize == 4096)
        #expect(server.maxConnections == 3)
        #expect(server.maxConnectionsPerAddress == 2)
        #expect(server.loginTimeout == .milliseconds(500))
        #expect(server.idleTimeout == .milliseconds(1235))
        #expect(server.stallTimeout == .zero)
        #expect(server.failedLoginDelay == .seconds(2))
        #expect(server.shutdownGrace == .seconds(86_400))
        #expect(server.maxFrameLength == 256)
        #expect(server.maxListEntries == 7)
        #expect(config.users.count == 0)
    }

    @Test("absent keys take the documented defaults; root defaults to share next to the file", arguments: [
        "", "[server]\n", "# nothing but a comment\n", "[server]\nport =\nlisten = \n",
    ])
    func defaults(text: String) throws {
        let directory = try TemporaryDirectory()
        let server = try load(text, in: directory).configuration
        #expect(server.root == directory.path + "/share")
        #expect(server.host == "127.0.0.1")
        #expect(server.port == 8912)
        #expect(server.chunkSize == 262_144)
        #expect(server.maxConnections == 2048)
        #expect(server.maxConnectionsPerAddress == 1024)
        #expect(server.loginTimeout == .seconds(30))
        #expect(server.idleTimeout == .seconds(600))
        #expect(server.stallTimeout == .seconds(60))
        #expect(server.failedLoginDelay == .seconds(1))
        #expect(server.shutdownGrace == .seconds(5))
        #expect(server.maxFrameLength == Frame.maximumLength)
        #expect(server.maxListEntries == 100_000)
    }

    @Test("an absolute root is kept as written")
    func absoluteRoot() throws {
        let directory = try TemporaryDirectory()
        let config = try load("[server]\nroot = /srv/ferry\n", in: directory)
        #expect(config.configuration.root == "/srv/ferry")
    }

    @Test("[user.NAME] sections become user records")
    func users() throws {
        let directory = try TemporaryDirectory()
        let config = try load("""
            [server]
            port = 1

            [user.demo]
            \(demoUser)
            read_only = false

            [user.guest_2.x-y]
            \(guestKeys)
            read_only = yes
            root = guests/../guest
            """, in: directory)
        #expect(config.users.count == 2)
        #expect(config.users.names == ["demo", "guest_2.x-y"])
        #expect(config.users["nobody"] == nil)

        let demo = try #require(config.users["demo"])
        #expect(demo.name == "demo")
        #expect(!demo.readOnly)
        #expect(demo.root == nil)
        #expect(demo.credentials.salt == bytes("b+hfK3tCbevQpb4NF9/Zng=="))
        #expect(demo.credentials.salt.count == 16)
        #expect(demo.credentials.iterations == 4096)
        #expect(demo.credentials.storedKey == bytes("UXqrpJI04ZzE3sT/VbHBEtZ51XWdrQVulgOXaRhVXRc="))
        #expect(demo.credentials.serverKey == bytes("VHeE2VltsmO4iZQ7lRDk4pVi76JzHiLB3K5L+TNb/7s="))

        let guest = try #require(config.users["guest_2.x-y"])
        #expect(guest.readOnly)
        #expect(guest.root == directory.path + "/guest")
        #expect(guest.credentials.iterations == 4096, "iterations defaults to the minimum")
        #expect(guest.credentials.storedKey.count == 32)
    }

    @Test("read_only accepts the documented spellings", arguments: [
        ("true", true), ("YES", true), ("1", true), ("on", true),
        ("false", false), ("No", false), ("0", false), ("off", false),
    ])
    func readOnlySpellings(text: String, value: Bool) throws {
        let directory = try TemporaryDirectory()
        let config = try load("[user.u]\n\(demoUser)\nread_only = \(text)\n", in: directory)
        #expect(config.users["u"]?.readOnly == value)
    }

    @Test("userSection writes lines that load back as the same record")
    func userSectionRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let original = try load("[server]\nport = 5\n\n[user.demo]\n\(demoUser)\nread_only = yes\nroot = /srv/demo\nquota = 3G\nrate_limit = 3M\n", in: directory)
        let demo = try #require(original.users["demo"])
        let lines = ConfigFile.userSection(for: demo)
        #expect(lines.contains("read_only = true"))
        #expect(lines.contains("root = /srv/demo"))
        #expect(lines.contains("rate_limit = 3M"), "adduser replacing a password keeps the limit")
        let text = IniFile.replacingSection("user.copy", in: "[server]\nport = 5\n", with: lines)
        let copy = try #require(try load(text, in: directory).users["copy"])
        #expect(copy.credentials == demo.credentials)
        #expect(copy.readOnly == demo.readOnly)
        #expect(copy.root == demo.root)
        #expect(copy.quota == 3 << 30)
        #expect(copy.rateLimit == 3 << 20)
    }

    @Test("quota takes bytes with an optional K, M, G or T", arguments: [
        ("1000", UInt64(1000)), ("64K", UInt64(64) << 10), ("5m", UInt64(5) << 20), ("10G", UInt64(10) << 30), ("2T", UInt64(2) << 40), ("0", UInt64(0)),
    ])
    func quotaSizes(text: String, bytes: UInt64) throws {
        let directory = try TemporaryDirectory()
        let config = try load("[user.u]\n\(demoUser)\nquota = \(text)\n", in: directory)
        #expect(config.users["u"]?.quota == bytes)
    }

    @Test("a quota that is not a size is an error naming it", arguments: ["1.5G", "10X", "-1", "G", "99999999999T", "ten"])
    func badQuotas(text: String) throws {
        let directory = try TemporaryDirectory()
        #expect { try load("[user.u]\n\(demoUser)\nquota = \(text)\n", in: directory) } throws: { error in
            "\(error)".contains("quota must be a number of bytes")
        }
    }

    @Test("mistakes are errors that name the key or section", arguments: [
        ("[server]\nprot = 1\n", "unknown key \"prot\""),
        ("[server]\nport = 8912\nPort = 1\n", "unknown key \"Port\""),
        ("[servers]\nport = 1\n", "unknown section [servers]"),
        ("[server]\n[users.demo]\n", "unknown section [users.demo]"),
        ("[server]\nport = 70000\n", "port"),
        ("[server]\nport = -1\n", "port"),
        ("[server]\nport = eighty\n", "port"),
        ("[server]\nport = 80.5\n", "port"),
        ("[server]\nchunk_size = 4095\n", "chunk_size"),
        ("[server]\nmax_connections = 0\n", "max_connections"),
        ("[server]\nmax_header_size = 65537\n", "max_header_size"),
        ("[server]\nlogin_timeout = soon\n", "login_timeout"),
        ("[server]\nidle_timeout = -1\n", "idle_timeout"),
        ("[server]\nstall_timeout = nan\n", "stall_timeout"),
        ("[server]\nshutdown_grace = 1e300\n", "shutdown_grace"),
        ("[user.u]\nsalt = not base64!\niterations = 4096\nstored_key = \(String(repeating: "A", count: 43))=\nserver_key = \(String(repeating: "A", count: 43))=\n", "salt"),
        ("[user.u]\n\(guestKeys.replacingOccurrences(of: "kXsb4XGsVY4gufKI0IwFnZeF9TegijrPsyPo5OlGK88=", with: "AAAAAAAAAAAAAAAAAAAAAA=="))\n", "stored_key"),
        ("[user.u]\nsalt = P9hQnK9zKlsMZhWVM5Dn5g==\nstored_key = kXsb4XGsVY4gufKI0IwFnZeF9TegijrPsyPo5OlGK88=\n", "server_key is missing"),
        ("[user.u]\n\(demoUser)\nread_only = maybe\n", "read_only"),
        ("[user.u]\n\(guestKeys)\niterations = 1000\n", "iterations"),
        ("[user.u]\n\(demoUser)\npassword = ferry\n", "unknown key \"password\""),
        ("[user.bad name]\n\(demoUser)\n", "user names"),
        ("[user.]\n\(demoUser)\n", "user names"),
        ("[user..x]\n\(demoUser)\n", "user names"),
        ("[user.\(String(repeating: "n", count: 65))]\n\(demoUser)\n", "user names"),
        ("port = 1\n", "config.ini:1: key outside any [section]"),
        ("[server]\nport\n", "config.ini:2: expected key = value"),
        ("[server]\nmax_rate = 2 MB/s\n", "max_rate must be a number of bytes"),
        ("[user.u]\n\(demoUser)\nrate_limit = -1\n", "rate_limit must be a number of bytes"),
        ("[user.u]\n\(demoUser)\nrate_limit = 1.5M\n", "rate_limit must be a number of bytes"),
    ])
    func invalid(text: String, mention: String) throws {
        let directory = try TemporaryDirectory()
        let error = #expect(throws: ConfigFile.Invalid.self) { try load(text, in: directory) }
        #expect(error?.description.contains(mention) == true, "\(String(describing: error)) should mention \(mention)")
    }

    @Test("every mistake names the file and its line", arguments: [
        ("[server]\nport = 1\n\nprot = 2\n", 4, "[server]: unknown key \"prot\""),
        ("# top\n[server]\nlisten = ::1\nport = eighty\n", 4, "[server] port must be a whole number from 0 to 65535"),
        ("[server]\n\n[servers]\n", 3, "unknown section [servers]"),
        ("[server]\n[tls]\ncertificate = a.crt\n", 3, "[tls] certificate and private_key go together"),
        ("[user.u]\n\(demoUser)\n\n[user.v]\n\(demoUser)\n[user.u]\n\(demoUser)\n", 12, "duplicate [user.u]: this user u is already defined at line 1"),
        ("[server]\nport = 1\n[server]\n", 3, "duplicate [server]"),
        ("[user.u]\nsalt = P9hQnK9zKlsMZhWVM5Dn5g==\nstored_key = kXsb4XGsVY4gufKI0IwFnZeF9TegijrPsyPo5OlGK88=\n", 1, "[user.u] server_key is missing"),
        ("[user.u]\n\(demoUser)\nquota = lots\n", 6, "[user.u] quota must be a number of bytes"),
        ("[user.bad name]\n\(demoUser)\n", 1, "[user.bad name]: user names are"),
        ("[server]\n[nope\n", 2, "section header must look like [name]"),
    ])
    func mistakesNameTheirLine(text: String, line: Int, reason: String) throws {
        let directory = try TemporaryDirectory()
        let error = #expect(throws: ConfigFile.Invalid.self) { try load(text, in: directory) }
        #expect(error?.file == directory.url("config.ini"))
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.reason.hasPrefix(reason) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("\(directory.url("config.ini")):\(line): \(reason)") == true)
    }

    @Test("a root or log that cannot be opened is placed at the line naming it")
    func afterReadingErrorsNameTheKeysLine() throws {
        let directory = try TemporaryDirectory()
        let config = try load("[server]\nport = 1\n\n[user.demo]\n\(demoUser)\nroot = /nowhere\n", in: directory)
        #expect(config.invalid("cannot open", key: "root", in: "user.demo").line == 9)
        #expect(config.invalid("cannot open", key: "root", in: "server").line == 1, "unset: the section's header")
        #expect(config.invalid("cannot open", key: "root", in: "tls").line == nil, "no such section")
    }

    @Test("sizes are written in the largest unit that keeps them exact", arguments: [
        (UInt64(0), "0"), (UInt64(1000), "1000"), (UInt64(1536) << 10, "1536K"), (UInt64(10) << 30, "10G"), (UInt64(3) << 40, "3T"),
    ])
    func byteCountText(bytes: UInt64, text: String) {
        #expect(ByteCount.text(bytes) == text)
        #expect(ByteCount.parse(text) == bytes)
    }

    @Test("a missing file is an error naming it")
    func missingFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.url("absent.ini")
        let error = #expect(throws: ConfigFile.Invalid.self) { try ConfigFile(path: path) }
        #expect(error?.description == "\(path): cannot read: No such file or directory")
    }

    @Test("max_rate and rate_limit are bytes per second with K, M or G for 1024s; 0 or absent is no limit", arguments: [
        ("2M", UInt64(2) << 20), ("512k", UInt64(512) << 10), ("1G", UInt64(1) << 30), ("100000", UInt64(100_000)), ("0", nil), (nil, nil),
    ] as [(String?, UInt64?)])
    func rates(text: String?, rate: UInt64?) throws {
        let directory = try TemporaryDirectory()
        let key = text.map { "max_rate = \($0)\n" } ?? ""
        let user = text.map { "rate_limit = \($0)\n" } ?? ""
        let config = try load("[server]\n\(key)\n[user.u]\n\(demoUser)\n\(user)", in: directory)
        #expect(config.configuration.maxRate == rate)
        #expect(config.users["u"]?.rateLimit == rate)
    }
}
