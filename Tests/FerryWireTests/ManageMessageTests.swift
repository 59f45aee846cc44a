import FerryWire
import Testing

/// The messages of feature `manage` (docs/PROTOCOL.md 6.8 to 6.11), `entry.mode` and the `mtime` of
/// `put` and `upload`: their exact JSON, round trips, and what is refused.
@Suite("Messages of feature manage")
struct ManageMessageTests {
    static let messages: [Message] = [
        .rmdir(PathRequest(path: "a/b")),
        .rm(RemoveRequest(path: "x")),
        .rm(RemoveRequest(path: "d/報告", recursive: true)),
        .rm(RemoveRequest(path: "d", recursive: false)),
        .removed(Removed(files: 0, directories: 0, bytes: 0)),
        .removed(Removed(files: UInt64.max, directories: 3, bytes: 1 << 62)),
        .rename(RenameRequest(from: "a", to: "b")),
        .rename(RenameRequest(from: "dir/a \"q\"", to: "other/b", replace: true)),
        .df,
        .usage(Usage(quotaUsed: 5, quota: nil, diskFree: 0, diskTotal: UInt64.max)),
        .usage(Usage(quotaUsed: 0, quota: 1 << 20, diskFree: 1, diskTotal: 2)),
        .entry(EntryReply(entry: Entry(name: "f", kind: .file, size: 1, mtime: 2, mode: 0o644))),
        .entry(EntryReply(entry: Entry(name: "d", kind: .directory, size: 0, mtime: 2, mode: 0o7777))),
        .upload(UploadRequest(path: "u", size: 3, mtime: -86_400)),
        .upload(UploadRequest(path: "u", size: 3, mtime: Int64.max)),
        .put(PutRequest(path: "p", size: 0, md5: "d41d8cd98f00b204e9800998ecf8427e", mtime: 1_795_918_068)),
    ]

    @Test("each round-trips through encode and decode", arguments: messages)
    func roundTrip(message: Message) throws {
        let coder = MessageCoder()
        #expect(try coder.decode(coder.encode(message)) == message)
    }

    @Test("exact JSON: snake_case keys, optional keys absent when not set", arguments: [
        (Message.rmdir(PathRequest(path: "a/b")), #"{"path":"a/b","type":"rmdir"}"#),
        (.rm(RemoveRequest(path: "x")), #"{"path":"x","type":"rm"}"#),
        (.rm(RemoveRequest(path: "x", recursive: true)), #"{"path":"x","recursive":true,"type":"rm"}"#),
        (.removed(Removed(files: 2, directories: 1, bytes: 10)), #"{"bytes":10,"directories":1,"files":2,"type":"removed"}"#),
        (.rename(RenameRequest(from: "a", to: "b")), #"{"from":"a","to":"b","type":"rename"}"#),
        (.rename(RenameRequest(from: "a", to: "b", replace: true)), #"{"from":"a","replace":true,"to":"b","type":"rename"}"#),
        (.df, #"{"type":"df"}"#),
        (.usage(Usage(quotaUsed: 1, quota: nil, diskFree: 2, diskTotal: 3)),
         #"{"disk_free":2,"disk_total":3,"quota_used":1,"type":"usage"}"#),
        (.usage(Usage(quotaUsed: 1, quota: 4, diskFree: 2, diskTotal: 3)),
         #"{"disk_free":2,"disk_total":3,"quota":4,"quota_used":1,"type":"usage"}"#),
        (.entry(EntryReply(entry: Entry(name: "f", kind: .file, size: 1, mtime: 2, mode: 420))),
         #"{"entry":{"kind":"file","mode":420,"mtime":2,"name":"f","size":1},"type":"entry"}"#),
        (.upload(UploadRequest(path: "u", size: 3)), #"{"path":"u","size":3,"type":"upload"}"#),
        (.upload(UploadRequest(path: "u", size: 3, mtime: 7)), #"{"mtime":7,"path":"u","size":3,"type":"upload"}"#),
        (.put(PutRequest(path: "p", size: 1, md5: "m", mtime: -1)), #"{"md5":"m","mtime":-1,"path":"p","size":1,"type":"put"}"#),
    ])
    func exactJSON(message: Message, json: String) throws {
        #expect(String(decoding: try MessageCoder().encode(message), as: UTF8.self) == json)
    }

    @Test("the new names are the documented ones, and not_empty is a known code")
    func names() {
        #expect(Self.messages.map(\.type).filter { ["rmdir", "rm", "removed", "rename", "df", "usage"].contains($0) }.count == 11)
        #expect(Hello.manageFeature == "manage")
        #expect(ErrorCode.notEmpty.rawValue == "not_empty")
        let hello = Hello(protocolVersion: 1, server: "s", auth: [], chunkSize: 1, features: ["chunks", "mkdir", "manage"])
        #expect(hello.offers(Hello.manageFeature))
        #expect(!Hello(protocolVersion: 1, server: "s", auth: [], chunkSize: 1, features: ["chunks", "mkdir"]).offers(Hello.manageFeature))
    }

    @Test("an entry without mode, as older servers send it, decodes with mode nil")
    func entryWithoutMode() throws {
        let message = try MessageCoder().decode(Array(#"{"type":"entry","entry":{"name":"a","kind":"file","size":1,"mtime":2}}"#.utf8))
        #expect(message == .entry(EntryReply(entry: Entry(name: "a", kind: .file, size: 1, mtime: 2))))
        guard case .entry(let reply) = message else { return }
        #expect(reply.entry.mode == nil)
    }

    @Test("malformed messages of feature manage are refused", arguments: [
        #"{"type":"rmdir"}"#,
        #"{"type":"rm","recursive":true}"#,
        #"{"type":"rm","path":"x","recursive":"yes"}"#,
        #"{"type":"rm","path":"x","recursive":1}"#,
        #"{"type":"rename","from":"a"}"#,
        #"{"type":"rename","to":"b"}"#,
        #"{"type":"rename","from":"a","to":7}"#,
        #"{"type":"rename","from":"a","to":"b","replace":"true"}"#,
        #"{"type":"removed","files":1,"directories":1}"#,
        #"{"type":"removed","files":-1,"directories":1,"bytes":0}"#,
        #"{"type":"removed","files":1.0,"directories":1,"bytes":0}"#,
        #"{"type":"removed","files":1,"directories":1,"bytes":1e3}"#,
        #"{"type":"usage","quota_used":1,"disk_free":2}"#,
        #"{"type":"usage","quota_used":1,"disk_free":2,"disk_total":-0}"#,
        #"{"type":"usage","quota_used":1,"quota":2.5,"disk_free":2,"disk_total":3}"#,
        #"{"type":"usage","quota_used":"1","disk_free":2,"disk_total":3}"#,
        #"{"type":"entry","entry":{"name":"a","kind":"file","size":1,"mtime":2,"mode":-1}}"#,
        #"{"type":"entry","entry":{"name":"a","kind":"file","size":1,"mtime":2,"mode":4294967296}}"#,
        #"{"type":"entry","entry":{"name":"a","kind":"file","size":1,"mtime":2,"mode":420.0}}"#,
        #"{"type":"entry","entry":{"name":"a","kind":"file","size":1,"mtime":2,"mode":"644"}}"#,
        #"{"type":"upload","path":"u","size":1,"mtime":1.5}"#,
        #"{"type":"upload","path":"u","size":1,"mtime":"1"}"#,
        #"{"type":"upload","path":"u","size":1,"mtime":9223372036854775808}"#,
        #"{"type":"put","path":"p","size":1,"md5":"m","mtime":-0}"#,
        #"{"type":"rename","from":"a","to":"b","to":"c"}"#,
    ])
    func refused(json: String) {
        #expect(throws: WireError.self, "\(json)") { try MessageCoder().decode(Array(json.utf8)) }
    }

    @Test("keys this client does not know are still ignored in the new messages")
    func unknownKeys() throws {
        let coder = MessageCoder()
        #expect(try coder.decode(Array(#"{"type":"df","verbose":true}"#.utf8)) == .df)
        #expect(try coder.decode(Array(#"{"type":"removed","files":1,"directories":0,"bytes":3,"elapsed":0.5}"#.utf8))
            == .removed(Removed(files: 1, directories: 0, bytes: 3)))
    }
}
