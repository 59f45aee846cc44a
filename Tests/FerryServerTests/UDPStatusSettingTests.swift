import FerryServer
import Testing

/// `[server] udp_status`: the status probe is on unless the file turns it off.
@Suite struct UDPStatusSettingTests {
    private func load(_ text: String) throws -> ConfigFile {
        let directory = try TemporaryDirectory()
        try directory.write("config.ini", text)
        return try ConfigFile(path: directory.url("config.ini"))
    }

    @Test(arguments: [("", true), ("udp_status = true\n", true), ("udp_status = false\n", false), ("udp_status = off\n", false)])
    func udpStatusIsOnByDefault(line: String, expected: Bool) throws {
        #expect(try load("[server]\n" + line).configuration.udpStatus == expected)
        #expect(ServerConfiguration(root: "/").udpStatus, "a bare configuration answers probes too")
    }

    @Test func aValueThatIsNotABooleanIsAnErrorNamingTheKey() throws {
        let error = #expect(throws: ConfigFile.Invalid.self) { try load("[server]\nudp_status = maybe\n") }
        #expect(error?.description.contains("udp_status must be true or false") == true)
    }
}
