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
