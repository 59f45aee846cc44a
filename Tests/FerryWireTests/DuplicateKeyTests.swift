import FerryWire
import Testing

@Suite struct DuplicateKeyTests {
    @Test(arguments: [
        #"{"type":"bye","type":"ready"}"#,
        #"{"type":"get","path":"a","path":"b"}"#,
        #"{"type":"get","path":"a","p\u0061th":"b"}"#,
        #"{"type":"listing","more":false,"entries":[{"name":"a","name":"b","kind":"file","size":1,"mtime":0}]}"#,
    ])
    func aRepeatedKeyIsRefused(json: String) {
        #expect(throws: WireError.self) { try MessageCoder().decode(Array(json.utf8)) }
    }

    @Test(arguments: [
        #"{"type":"get","path":"type"}"#,
        #"{"type":"listing","more":false,"entries":[{"name":"a","kind":"file","size":1,"mtime":0},{"name":"b","kind":"file","size":1,"mtime":0}]}"#,
        #"{"type":"get","path":"a\"path\":\"b"}"#,
    ])
    func theSameKeyInDifferentObjectsOrInsideAStringIsFine(json: String) throws {
        _ = try MessageCoder().decode(Array(json.utf8))
    }
}

@Suite struct WholeNumberTests {
    @Test(arguments: [#"{"type":"put","path":"a","size":12.0,"md5":"x"}"#, #"{"type":"put","path":"a","size":1.2e1,"md5":"x"}"#,
                      #"{"type":"put","path":"a","size":12E0,"md5":"x"}"#])
    func aFractionOrExponentIsRefused(json: String) {
        #expect(throws: WireError.self) { try MessageCoder().decode(Array(json.utf8)) }
    }

    @Test func wholeNumbersAndLettersInLiteralsAndStringsAreFine() throws {
        let message = try MessageCoder().decode(Array(#"{"type":"listing","more":false,"truncated":true,"entries":[{"name":"1.5e3","kind":"file","size":12,"mtime":-5}]}"#.utf8))
        guard case .listing(let listing) = message else { Issue.record("not a listing"); return }
        #expect(listing.entries.first?.mtime == -5)
        #expect(listing.entries.first?.name == "1.5e3")
    }
}
