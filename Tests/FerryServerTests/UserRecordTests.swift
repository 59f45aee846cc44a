import FerryServer
import Testing

@Suite("UserRecord.isValidName")
struct UserRecordTests {
    @Test("accepted", arguments: [
        "demo", "a.b_c-d", "A", "z", "0", "9lives", "user.name", "a-", "a.", "_x", "MiXeD_123",
        String(repeating: "a", count: 64),
    ])
    func accepted(name: String) {
        #expect(UserRecord.isValidName(name))
    }

    @Test("rejected", arguments: [
        "", String(repeating: "a", count: 65), ".x", "-x", ".", "-", "a b", " a", "a ", "a\u{0}", "a\nb", "a\t",
        "ü", "é", "a/b", "a\\b", "a:b", "a@b", "a+b", "a=b", "a]b", "[a", "a,b", "\u{1F600}",
        "ａ",
    ])
    func rejected(name: String) {
        #expect(!UserRecord.isValidName(name))
    }
}
