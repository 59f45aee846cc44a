import FerryWire
import Testing

@Suite("IniFile")
struct IniFileTests {
    @Test("sections, keys, comments and whitespace")
    func parses() throws {
        let text = """
            # a comment
            ; another comment
               # indented comment

            [server]
            port = 8912
              listen=0.0.0.0\t
            root =   my share dir   
            empty =
            equation = a=b=c
            quoted = "kept as is"
            Port = 1

            [ user.demo ]
            salt = abc==
            ;salt = commented out
            port = 2
            port = 3
            """
        let ini = try IniFile(parsing: text)
        #expect(ini.sections.map(\.name) == ["server", "user.demo"])
        let server = try #require(ini.section("server"))
        #expect(server.values == [
            "port": "8912", "listen": "0.0.0.0", "root": "my share dir", "empty": "",
            "equation": "a=b=c", "quoted": "\"kept as is\"", "Port": "1",
        ])
        let user = try #require(ini.section("user.demo"))
        #expect(user.values == ["salt": "abc==", "port": "3"], "a later duplicate wins; keys are case-sensitive")
        #expect(ini.section("missing") == nil)
        #expect(ini.section("Server") == nil)
    }

    @Test("empty and comment-only texts have no sections", arguments: ["", "\n\n", "# only\n; comments\n", "   \n\t\n"])
    func empty(text: String) throws {
        #expect(try IniFile(parsing: text).sections.isEmpty)
    }

    @Test("the first of two sections with one name is the one returned")
    func duplicateSections() throws {
        let ini = try IniFile(parsing: "[a]\nk = 1\n[b]\n[a]\nk = 2\n")
        #expect(ini.sections.map(\.name) == ["a", "b", "a"])
        #expect(ini.section("a")?.values["k"] == "1")
        #expect(ini.section("b")?.values.isEmpty == true)
    }

    @Test("syntax errors name their line", arguments: [
        ("key = value\n[server]\n", 1, "outside"),
        ("# comment\n\nport = 1\n", 3, "outside"),
        ("[server]\nport 8912\n", 2, "key = value"),
        ("[server]\nport = 1\n\njust words\n", 4, "key = value"),
        ("[server\nport = 1\n", 1, "[name]"),
        ("[]\n", 1, "[name]"),
        ("[server]\nport = 1\n[bad\n", 3, "[name]"),
        ("[server]\n = value\n", 2, "empty key"),
    ])
    func errors(text: String, line: Int, reason: String) {
        let error = #expect(throws: IniFile.ParseError.self) { try IniFile(parsing: text) }
        #expect(error?.line == line)
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("line \(line): ") == true)
    }

    static let config = """
        # ferryd configuration

        [server]
        # the port
        port = 8912

        # the demo user
        [user.demo]
        salt = OLD
        read_only = false

        [user.guest]
        ; read-only guest
        salt = GUEST
        """

    @Test("replacingSection replaces a section in the middle and keeps what is around it")
    func replaceMiddle() throws {
        let result = IniFile.replacingSection("user.demo", in: Self.config, with: ["salt = NEW", "read_only = true"])
        #expect(result == """
            # ferryd configuration

            [server]
            # the port
            port = 8912

            # the demo user
            [user.demo]
            salt = NEW
            read_only = true

            [user.guest]
            ; read-only guest
            salt = GUEST

            """)
        let ini = try IniFile(parsing: result)
        #expect(ini.sections.map(\.name) == ["server", "user.demo", "user.guest"])
        #expect(ini.section("user.demo")?.values == ["salt": "NEW", "read_only": "true"])
        #expect(ini.section("user.guest")?.values == ["salt": "GUEST"])
    }

    @Test("replacingSection appends a new section at the end after one blank line")
    func appendNew() throws {
        let result = IniFile.replacingSection("user.new", in: Self.config + "\n\n\n", with: ["salt = X"])
        #expect(result == Self.config + "\n\n[user.new]\nsalt = X\n")
        let ini = try IniFile(parsing: result)
        #expect(ini.sections.map(\.name) == ["server", "user.demo", "user.guest", "user.new"])
        #expect(ini.section("user.new")?.values == ["salt": "X"])
    }

    @Test("replacingSection on an empty text makes a file of just that section")
    func replaceInEmpty() throws {
        let result = IniFile.replacingSection("server", in: "", with: ["port = 1"])
        let ini = try IniFile(parsing: result)
        #expect(ini.sections.map(\.name) == ["server"])
        #expect(ini.section("server")?.values == ["port": "1"])
        #expect(result.hasSuffix("[server]\nport = 1\n"))
    }

    @Test("replacingSection twice with the same lines changes nothing the second time", arguments: [
        "user.demo", "user.guest", "server", "user.brand-new",
    ])
    func idempotent(name: String) {
        let lines = ["salt = S", "iterations = 4096"]
        let once = IniFile.replacingSection(name, in: Self.config, with: lines)
        let twice = IniFile.replacingSection(name, in: once, with: lines)
        #expect(twice == once)
        #expect(once.components(separatedBy: "[\(name)]").count == 2, "exactly one [\(name)] header")
    }

    @Test("replacingSection removes a duplicate of the section, keeping the first position")
    func duplicatesMerged() throws {
        let text = "[a]\nk = 1\n[b]\nx = 1\n[a]\nk = 2\n"
        let result = IniFile.replacingSection("a", in: text, with: ["k = 3"])
        let ini = try IniFile(parsing: result)
        #expect(ini.sections.map(\.name) == ["a", "b"])
        #expect(ini.section("a")?.values == ["k": "3"])
        #expect(ini.section("b")?.values == ["x": "1"])
    }
}

@Suite("IniFile lines")
struct IniFileLineTests {
    @Test("sections and keys remember their lines, for messages about them")
    func lines() throws {
        let ini = try IniFile(parsing: "# top\n[a]\nk = 1\n\nj = 2\n[b]\r\nx = 1\r\nx = 2\n")
        let a = try #require(ini.section("a"))
        #expect(a.line == 2)
        #expect(a.keyLines == ["k": 3, "j": 5])
        #expect(a.keysInFileOrder == ["k", "j"])
        let b = try #require(ini.section("b"))
        #expect(b.line == 6)
        #expect(b.keyLines == ["x": 8], "the line of the duplicate that wins")
    }

    @Test("booleans as both configuration files spell them")
    func booleans() {
        for yes in ["true", "Yes", "ON", "1"] { #expect(IniFile.boolean(yes) == true) }
        for no in ["false", "no", "Off", "0"] { #expect(IniFile.boolean(no) == false) }
        for neither in ["", "maybe", "2", "y"] { #expect(IniFile.boolean(neither) == nil) }
    }
}
