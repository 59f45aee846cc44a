import FerryWire
import Testing

private let md5Hex = "900150983cd24fb0d6963f7d28e17f72"

/// One value of every case, some with awkward contents (unicode, slashes, quotes, extremes).
private let everyMessage: [Message] = [
    .hello(Hello(protocolVersion: 1, server: "ferryd 0.1.0", auth: [Hello.scramSHA256], chunkSize: 262_144)),
    .hello(Hello(protocolVersion: 7, server: "", auth: [], chunkSize: 0)),
    .authStart(AuthStart(mechanism: "SCRAM-SHA-256", message: "n,,n=demo,r=rOprNGfwEbeRWgbNEkqO")),
    .authChallenge(AuthMessage(message: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
    .authFinish(AuthMessage(message: "c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")),
    .authOK(AuthOK(message: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", user: "demo", readOnly: false)),
    .authOK(AuthOK(message: "v=x", user: "guest", readOnly: true)),
    .list(PathRequest(path: "")),
    .list(PathRequest(path: "docs/報告 \"final\" (1).txt")),
    .listing(Listing(entries: [], more: false)),
    .listing(Listing(entries: [
        Entry(name: "a.txt", kind: .file, size: 3, mtime: 1_700_000_000),
        Entry(name: "dir", kind: .directory, size: 0, mtime: -1),
        Entry(name: "link", kind: .symlink, size: 0, mtime: 0),
        Entry(name: "fifo", kind: .other, size: 0, mtime: Int64.max),
    ], more: true)),
    .listing(Listing(entries: [Entry(name: "z", kind: .file, size: UInt64.max, mtime: Int64.min)], more: false, truncated: true)),
    .listing(Listing(entries: [], more: false, truncated: false)),
    .stat(PathRequest(path: "a/b")),
    .entry(EntryReply(entry: Entry(name: "b", kind: .file, size: 42, mtime: 1))),
    .get(PathRequest(path: "dir/b.txt")),
    .preparing(Preparing(done: 0, total: 0)),
    .preparing(Preparing(done: 1 << 30, total: UInt64.max)),
    .file(FileHeader(name: "b.txt", size: 1 << 40, md5: md5Hex, mtime: 1_700_000_123)),
    .put(PutRequest(path: "up/new.bin", size: 0, md5: "d41d8cd98f00b204e9800998ecf8427e")),
    .ready,
    .stored(Stored(path: "up/new.bin", size: 12, md5: md5Hex)),
    .bye,
    .error(ErrorReply(.notFound, "no such file or directory")),
    .error(ErrorReply(ErrorCode(rawValue: "something_new"), "a code this client does not know")),
]

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("MessageCoder")
struct MessageCoderTests {
    @Test("every message round-trips through encode and decode", arguments: everyMessage)
    func roundTrip(message: Message) throws {
        let coder = MessageCoder()
        let payload = try coder.encode(message)
        #expect(payload.first == UInt8(ascii: "{"))
        #expect(text(payload).contains("\"type\":\"\(message.type)\""))
        #expect(try coder.decode(payload) == message)
    }

    @Test("every message round-trips as a whole frame", arguments: everyMessage)
    func frameRoundTrip(message: Message) throws {
        let coder = MessageCoder()
        var decoder = FrameDecoder()
        decoder.append(try coder.frame(message))
        let payload = try #require(try decoder.nextFrame())
        #expect(try coder.decode(payload) == message)
        #expect(decoder.bufferedCount == 0)
    }

    @Test("the type names are the documented ones")
    func typeNames() {
        let names = everyMessage.map(\.type)
        for name in ["hello", "auth_start", "auth_challenge", "auth_finish", "auth_ok", "ls", "listing",
                     "stat", "entry", "get", "preparing", "file", "put", "ready", "stored", "bye", "error"] {
            #expect(names.contains(name), "no message encodes as \(name)")
        }
        #expect(Message.list(PathRequest(path: "x")).type == "ls")
    }

    @Test("exact JSON of some messages: snake_case keys, sorted, slashes unescaped", arguments: [
        (Message.hello(Hello(protocolVersion: 1, server: "ferryd 0.1.0", auth: ["SCRAM-SHA-256"], chunkSize: 262_144)),
         #"{"auth":["SCRAM-SHA-256"],"chunk_size":262144,"protocol":1,"server":"ferryd 0.1.0","type":"hello"}"#),
        (.authOK(AuthOK(message: "v=abc", user: "demo", readOnly: true)),
         #"{"message":"v=abc","read_only":true,"type":"auth_ok","user":"demo"}"#),
        (.list(PathRequest(path: "a/b")), #"{"path":"a/b","type":"ls"}"#),
        (.ready, #"{"type":"ready"}"#),
        (.bye, #"{"type":"bye"}"#),
        (.error(ErrorReply(.permissionDenied, "nope")), #"{"code":"permission_denied","message":"nope","type":"error"}"#),
        (.listing(Listing(entries: [], more: false)), #"{"entries":[],"more":false,"type":"listing"}"#),
        (.listing(Listing(entries: [], more: false, truncated: true)),
         #"{"entries":[],"more":false,"truncated":true,"type":"listing"}"#),
        (.put(PutRequest(path: "x", size: 5, md5: "m")), #"{"md5":"m","path":"x","size":5,"type":"put"}"#),
        (.preparing(Preparing(done: 1, total: 2)), #"{"done":1,"total":2,"type":"preparing"}"#),
        (.entry(EntryReply(entry: Entry(name: "d", kind: .directory, size: 0, mtime: 9))),
         #"{"entry":{"kind":"directory","mtime":9,"name":"d","size":0},"type":"entry"}"#),
    ])
    func exactJSON(message: Message, json: String) throws {
        #expect(text(try MessageCoder().encode(message)) == json)
    }

    @Test("documented JSON as a peer would write it decodes", arguments: [
        (#"{"type":"hello","protocol":1,"server":"ferryd 0.1.0","auth":["SCRAM-SHA-256"],"chunk_size":262144}"#,
         Message.hello(Hello(protocolVersion: 1, server: "ferryd 0.1.0", auth: ["SCRAM-SHA-256"], chunkSize: 262_144))),
        (#"{"type":"auth_start","mechanism":"SCRAM-SHA-256","message":"n,,n=demo,r=x"}"#,
         .authStart(AuthStart(mechanism: "SCRAM-SHA-256", message: "n,,n=demo,r=x"))),
        (#"{"type":"auth_ok","message":"v=x","user":"guest","read_only":true}"#,
         .authOK(AuthOK(message: "v=x", user: "guest", readOnly: true))),
        (#"{"type":"ls","path":"."}"#, .list(PathRequest(path: "."))),
        (#"{"type":"get","path":"a\/b"}"#, .get(PathRequest(path: "a/b"))),
        (#"{"type":"ready"}"#, .ready),
        (#"{"type":"bye"}   "#, .bye),
        (#"{"type":"listing","entries":[{"name":"a","kind":"file","size":1,"mtime":2}],"more":false}"#,
         .listing(Listing(entries: [Entry(name: "a", kind: .file, size: 1, mtime: 2)], more: false))),
        (#"{"type":"file","name":"n","size":18446744073709551615,"md5":"m","mtime":-5}"#,
         .file(FileHeader(name: "n", size: UInt64.max, md5: "m", mtime: -5))),
        (#"{"type":"error","code":"busy","message":"too many connections"}"#,
         .error(ErrorReply(.busy, "too many connections"))),
    ])
    func decodesDocumentedJSON(json: String, expected: Message) throws {
        #expect(try MessageCoder().decode(Array(json.utf8)) == expected)
    }

    @Test("unknown extra keys are ignored", arguments: [
        (#"{"type":"get","path":"x","future":{"a":[1,2,{"b":null}]},"zz":1.5}"#, Message.get(PathRequest(path: "x"))),
        (#"{"compress":"zstd","type":"bye"}"#, .bye),
        (#"{"type":"ready","size":"not even a number"}"#, .ready),
        (#"{"type":"listing","entries":[{"name":"a","kind":"file","size":1,"mtime":2,"owner":"root"}],"more":true,"cursor":"abc"}"#,
         .listing(Listing(entries: [Entry(name: "a", kind: .file, size: 1, mtime: 2)], more: true))),
    ])
    func extraKeysIgnored(json: String, expected: Message) throws {
        #expect(try MessageCoder().decode(Array(json.utf8)) == expected)
    }

    @Test("an entry kind this client does not know decodes as other")
    func unknownEntryKind() throws {
        let json = #"{"type":"entry","entry":{"name":"s","kind":"socket","size":0,"mtime":3}}"#
        #expect(try MessageCoder().decode(Array(json.utf8)) == .entry(EntryReply(entry: Entry(name: "s", kind: .other, size: 0, mtime: 3))))
    }

    @Test("an error code this client does not know still decodes")
    func unknownErrorCode() throws {
        let json = #"{"type":"error","code":"quota_exceeded","message":"over quota"}"#
        let message = try MessageCoder().decode(Array(json.utf8))
        guard case .error(let reply) = message else {
            Issue.record("decoded as \(message)")
            return
        }
        #expect(reply.code == ErrorCode(rawValue: "quota_exceeded"))
        #expect(reply.code.description == "quota_exceeded")
        #expect(reply.code != .internal)
        #expect(reply.message == "over quota")
    }

    @Test("known error codes have their documented strings")
    func errorCodeStrings() {
        let codes: [(ErrorCode, String)] = [
            (.badRequest, "bad_request"), (.notAuthenticated, "not_authenticated"), (.authFailed, "auth_failed"),
            (.notFound, "not_found"), (.permissionDenied, "permission_denied"), (.isDirectory, "is_directory"),
            (.notDirectory, "not_directory"), (.invalidPath, "invalid_path"), (.checksumMismatch, "checksum_mismatch"),
            (.tooLarge, "too_large"), (.busy, "busy"), (.timeout, "timeout"), (.unsupported, "unsupported"),
            (.internal, "internal"), (.alreadyExists, "already_exists"), (.notEmpty, "not_empty"),
        ]
        for (code, raw) in codes { #expect(code.rawValue == raw) }
        #expect(Set(codes.map(\.0)).count == codes.count)
    }
}

/// A named payload; the name alone is shown in test output.
struct MalformedPayload: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    var testDescription: String { name }
}

/// Payloads a hostile or broken peer might send. Every one must be refused with malformedMessage.
private let malformed: [MalformedPayload] = {
    var cases: [(String, [UInt8])] = [
        ("empty payload", []),
        ("not JSON", Array("hello".utf8)),
        ("brace then garbage", Array("{garbage".utf8)),
        ("truncated object", Array(#"{"type":"get","path":"a"#.utf8)),
        ("invalid UTF-8 in a string", Array(#"{"type":"get","path":""#.utf8) + [0xFF, 0xFE, 0xC0] + Array(#""}"#.utf8)),
        ("invalid UTF-8 as a key", [UInt8(ascii: "{"), UInt8(ascii: "\""), 0xC3, 0x28] + Array(#"":1,"type":"bye"}"#.utf8)),
        ("a JSON array", Array(#"[{"type":"bye"}]"#.utf8)),
        ("a number", Array("42".utf8)),
        ("null", Array("null".utf8)),
        ("a string", Array(#""bye""#.utf8)),
        ("true", Array("true".utf8)),
        ("leading whitespace", Array(#" {"type":"bye"}"#.utf8)),
        ("byte order mark", [0xEF, 0xBB, 0xBF] + Array(#"{"type":"bye"}"#.utf8)),
        ("no type", Array("{}".utf8)),
        ("type null", Array(#"{"type":null}"#.utf8)),
        ("type is a number", Array(#"{"type":5}"#.utf8)),
        ("type is an object", Array(#"{"type":{"name":"bye"}}"#.utf8)),
        ("unknown type", Array(#"{"type":"chmod","path":"x"}"#.utf8)),
        ("type in the wrong case", Array(#"{"type":"BYE"}"#.utf8)),
        ("camelCase type", Array(#"{"type":"authStart","mechanism":"m","message":"x"}"#.utf8)),
        ("size as a string", Array(#"{"type":"put","path":"a","size":"12","md5":"m"}"#.utf8)),
        ("negative size", Array(#"{"type":"put","path":"a","size":-1,"md5":"m"}"#.utf8)),
        ("size 1e400", Array(#"{"type":"put","path":"a","size":1e400,"md5":"m"}"#.utf8)),
        ("size 2^64", Array(#"{"type":"put","path":"a","size":18446744073709551616,"md5":"m"}"#.utf8)),
        ("size 1.5", Array(#"{"type":"put","path":"a","size":1.5,"md5":"m"}"#.utf8)),
        ("size -0", Array(#"{"type":"put","path":"a","size":-0,"md5":"m"}"#.utf8)),
        ("mtime -0", Array(#"{"type":"file","name":"n","size":1,"md5":"m","mtime":-0}"#.utf8)),
        ("size null", Array(#"{"type":"put","path":"a","size":null,"md5":"m"}"#.utf8)),
        ("size true", Array(#"{"type":"put","path":"a","size":true,"md5":"m"}"#.utf8)),
        ("mtime over Int64", Array(#"{"type":"file","name":"n","size":1,"md5":"m","mtime":9223372036854775808}"#.utf8)),
        ("missing path for get", Array(#"{"type":"get"}"#.utf8)),
        ("path null", Array(#"{"type":"get","path":null}"#.utf8)),
        ("path is an array", Array(#"{"type":"get","path":["a"]}"#.utf8)),
        ("missing md5 for put", Array(#"{"type":"put","path":"a","size":1}"#.utf8)),
        ("read_only as a string", Array(#"{"type":"auth_ok","message":"v","user":"u","read_only":"true"}"#.utf8)),
        ("readOnly in camelCase", Array(#"{"type":"auth_ok","message":"v","user":"u","readOnly":true}"#.utf8)),
        ("chunkSize in camelCase", Array(#"{"type":"hello","protocol":1,"server":"s","auth":[],"chunkSize":1}"#.utf8)),
        ("entry kind not a string", Array(#"{"type":"entry","entry":{"name":"a","kind":1,"size":0,"mtime":0}}"#.utf8)),
        ("lone surrogate escape", Array(#"{"type":"get","path":"\ud800"}"#.utf8)),
        ("preparing without total", Array(#"{"type":"preparing","done":1}"#.utf8)),
        ("error code as a number", Array(#"{"type":"error","code":404,"message":"m"}"#.utf8)),
        ("trailing garbage", Array(#"{"type":"bye"}x"#.utf8)),
        ("two objects", Array(#"{"type":"bye"}{"type":"bye"}"#.utf8)),
        ("NUL after the object", Array(#"{"type":"bye"}"#.utf8) + [0]),
    ]
    cases.append(("10,000 nested [ after type", Array(#"{"type":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 10_000)))
    cases.append(("10,000 balanced nested arrays as type",
                  Array(#"{"type":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 10_000)
                      + Array(repeating: UInt8(ascii: "]"), count: 10_000) + [UInt8(ascii: "}")]))
    cases.append(("10,000 nested objects", Array(repeating: Array(#"{"a":"#.utf8), count: 10_000).flatMap { $0 }))
    return cases.map { MalformedPayload(name: $0.0, bytes: $0.1) }
}()

@Suite("MessageCoder refuses malformed payloads")
struct MalformedMessageTests {
    @Test("malformed payload throws WireError.malformedMessage", arguments: malformed)
    func refused(payload: MalformedPayload) {
        let error = #expect(throws: WireError.self, "\(payload.name)") { try MessageCoder().decode(payload.bytes) }
        guard case .malformedMessage(let reason)? = error else {
            Issue.record("\(payload.name): \(String(describing: error)) is not malformedMessage")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test("the reason names the missing or mistyped field")
    func reasons() {
        let coder = MessageCoder()
        #expect(throws: WireError.malformedMessage("missing field \"path\"")) {
            try coder.decode(Array(#"{"type":"get"}"#.utf8))
        }
        #expect(throws: WireError.malformedMessage("unknown message type \"chmod\"")) {
            try coder.decode(Array(#"{"type":"chmod"}"#.utf8))
        }
        #expect(throws: WireError.malformedMessage("a frame must hold one JSON object")) {
            try coder.decode(Array("[]".utf8))
        }
    }
}

/// Server lines from the examples in docs/PROTOCOL.md: they decode, and re-encode to exactly the same text.
private let documentedServerLines = [
    #"{"auth":["SCRAM-SHA-256"],"chunk_size":262144,"protocol":1,"server":"ferryd/0.1.0","type":"hello"}"#,
    #"{"auth":["SCRAM-SHA-256"],"chunk_size":262144,"features":["chunks","mkdir"],"protocol":1,"server":"ferryd/0.1.0","type":"hello"}"#,
    #"{"entries":[{"kind":"file","mtime":1795918068,"name":"put.txt","size":5},{"content_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","kind":"file","md5":"d41d8cd98f00b204e9800998ecf8427e","mtime":1795918068,"name":"empty.txt","size":0},{"content_hash":"9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50","kind":"file","md5":"5d41402abc4b2a76b9719d911017c592","mtime":1795918068,"name":"hello.txt","size":5}],"more":false,"type":"listing"}"#,
    #"{"chunk_count":1,"chunk_size":4194304,"chunks":["2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"],"content_hash":"9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50","first":0,"md5":"5d41402abc4b2a76b9719d911017c592","more":false,"mtime":1795918068,"name":"hello.txt","size":5,"type":"manifest"}"#,
    #"{"index":0,"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","size":5,"type":"chunk"}"#,
    #"{"index":1,"sha256":"61d678b48de600e6922df82ac9fb5d208d19e98064d0d1d5c14a2ee50481c593","size":4194304,"type":"chunk"}"#,
    #"{"index":2,"sha256":"efeea944a76157a88d281091b6a79608653bc1f14a11d0357431c197701b6155","size":1000,"type":"chunk"}"#,
    #"{"chunk_count":3,"chunk_size":4194304,"chunks":["299285fc41a44cdb038b9fdaf494c76ca9d0c866672b2b266c1a0c17dda60a05","61d678b48de600e6922df82ac9fb5d208d19e98064d0d1d5c14a2ee50481c593","efeea944a76157a88d281091b6a79608653bc1f14a11d0357431c197701b6155"],"content_hash":"950805de91250bd108a85db6cb0d2808b9de8b2d166701ef4c9f5b565fed6113","first":0,"md5":"c59f2f773e4b15c4cdad464297f77fd7","more":false,"mtime":1795918068,"name":"abc.bin","size":8389608,"type":"manifest"}"#,
    #"{"chunk_count":1,"chunk_size":4194304,"held":[],"more":false,"type":"partial"}"#,
    #"{"content_hash":"9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50","md5":"5d41402abc4b2a76b9719d911017c592","path":"hello.txt","size":5,"type":"stored"}"#,
    #"{"chunk_count":0,"chunk_size":4194304,"held":[],"more":false,"type":"partial"}"#,
    #"{"content_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","path":"empty.txt","size":0,"type":"stored"}"#,
    #"{"chunk_count":3,"chunk_size":4194304,"held":[],"more":false,"type":"partial"}"#,
    #"{"chunks":[[1,2]],"mismatched":[[1,1]],"type":"incomplete"}"#,
    #"{"chunk_count":3,"chunk_size":4194304,"held":[{"index":0,"sha256":"299285fc41a44cdb038b9fdaf494c76ca9d0c866672b2b266c1a0c17dda60a05"}],"more":false,"type":"partial"}"#,
    #"{"content_hash":"950805de91250bd108a85db6cb0d2808b9de8b2d166701ef4c9f5b565fed6113","path":"abc.bin","size":8389608,"type":"stored"}"#,
    #"{"entry":{"kind":"directory","mtime":1795918068,"name":"c","size":0},"type":"entry"}"#,
    #"{"code":"already_exists","message":"a/b/c exists already","type":"error"}"#,
    #"{"code":"busy","message":"too many connections from 127.0.0.1","type":"error"}"#,
    #"{"auth":["SCRAM-SHA-256"],"chunk_size":262144,"features":["chunks","mkdir","manage"],"protocol":1,"server":"ferryd/0.1.0","type":"hello"}"#,
    #"{"entries":[{"kind":"file","mode":420,"mtime":1795918068,"name":"put.txt","size":5},{"content_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","kind":"file","md5":"d41d8cd98f00b204e9800998ecf8427e","mode":420,"mtime":1795918068,"name":"empty.txt","size":0},{"content_hash":"9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50","kind":"file","md5":"5d41402abc4b2a76b9719d911017c592","mode":420,"mtime":1795918068,"name":"hello.txt","size":5}],"more":false,"type":"listing"}"#,
    #"{"bytes":0,"directories":1,"files":0,"type":"removed"}"#,
    #"{"code":"not_empty","message":"docs is not empty","type":"error"}"#,
    #"{"bytes":5,"directories":0,"files":1,"type":"removed"}"#,
    #"{"code":"is_directory","message":"old is a directory; rm removes one only with recursive (or rmdir, when it is empty)","type":"error"}"#,
    #"{"bytes":1048576,"directories":3,"files":12,"type":"removed"}"#,
    #"{"code":"permission_denied","message":"the root cannot be removed","type":"error"}"#,
    #"{"entry":{"kind":"file","mode":420,"mtime":1795918068,"name":"final.txt","size":5},"type":"entry"}"#,
    #"{"code":"already_exists","message":"final.txt exists already (rename with replace to replace it)","type":"error"}"#,
    #"{"entry":{"kind":"file","mode":384,"mtime":1795918070,"name":"final.txt","size":9},"type":"entry"}"#,
    #"{"code":"invalid_path","message":"a cannot be moved into itself (a/b/a)","type":"error"}"#,
    #"{"disk_free":52613349376,"disk_total":105088212992,"quota":1048576,"quota_used":5,"type":"usage"}"#,
    #"{"message":"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096","type":"auth_challenge"}"#,
    #"{"message":"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=","read_only":false,"type":"auth_ok","user":"user"}"#,
    #"{"entries":[{"kind":"other","mtime":1795308189,"name":"fifo","size":0},{"kind":"directory","mtime":1795308207,"name":"d32","size":0},{"kind":"file","mtime":1795308189,"name":"hello.txt","size":14},{"kind":"symlink","mtime":1795308189,"name":"link.txt","size":0}],"more":false,"type":"listing"}"#,
    #"{"code":"not_directory","message":"not a directory","type":"error"}"#,
    #"{"entry":{"kind":"file","mtime":1795308189,"name":"link.txt","size":14},"type":"entry"}"#,
    #"{"entry":{"kind":"directory","mtime":1795308189,"name":"/","size":0},"type":"entry"}"#,
    #"{"md5":"57b259a0176718ee05329985624ca887","mtime":1795308189,"name":"hello.txt","size":14,"type":"file"}"#,
    #"{"type":"ready"}"#,
    #"{"md5":"f8a6701de14ec3fcfd9f2fe595e9c9ed","path":"sub/new.txt","size":12,"type":"stored"}"#,
    #"{"code":"permission_denied","message":"is a symlink; refusing to replace it","type":"error"}"#,
]

/// Client lines from docs/PROTOCOL.md, written in the client's own key order.
private let documentedClientLines: [(String, Message)] = [
    (#"{"type":"auth_start","mechanism":"SCRAM-SHA-256","message":"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"}"#,
     .authStart(AuthStart(mechanism: "SCRAM-SHA-256", message: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))),
    (#"{"type":"auth_finish","message":"c=biws,r=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="}"#,
     .authFinish(AuthMessage(message: "c=biws,r=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))),
    (#"{"type":"ls","path":"sub"}"#, .list(PathRequest(path: "sub"))),
    (#"{"type":"stat","path":"link.txt"}"#, .stat(PathRequest(path: "link.txt"))),
    (#"{"type":"get","path":"hello.txt"}"#, .get(PathRequest(path: "hello.txt"))),
    (#"{"type":"put","path":"sub/new.txt","size":12,"md5":"f8a6701de14ec3fcfd9f2fe595e9c9ed"}"#,
     .put(PutRequest(path: "sub/new.txt", size: 12, md5: "f8a6701de14ec3fcfd9f2fe595e9c9ed"))),
    (#"{"type":"bye"}"#, .bye),
    (#"{"type":"fetch","path":"hello.txt"}"#,
     .fetch(FetchRequest(path: "hello.txt"))),
    (#"{"type":"fetch","path":"abc.bin","chunks":[[1,2]],"expect":"950805de91250bd108a85db6cb0d2808b9de8b2d166701ef4c9f5b565fed6113","manifest":false}"#,
     .fetch(FetchRequest(path: "abc.bin", chunks: [ChunkRange(first: 1, count: 2)], expect: "950805de91250bd108a85db6cb0d2808b9de8b2d166701ef4c9f5b565fed6113", manifest: false))),
    (#"{"type":"fetch","path":"abc.bin","chunks":[],"md5":true}"#,
     .fetch(FetchRequest(path: "abc.bin", chunks: [], md5: true))),
    (#"{"type":"upload","path":"hello.txt","size":5}"#,
     .upload(UploadRequest(path: "hello.txt", size: 5))),
    (#"{"type":"chunk","index":0,"size":5,"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}"#,
     .chunk(ChunkHeader(index: 0, size: 5, sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))),
    (#"{"type":"commit","content_hash":"9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50","md5":"5d41402abc4b2a76b9719d911017c592"}"#,
     .commit(CommitRequest(contentHash: "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50", md5: "5d41402abc4b2a76b9719d911017c592"))),
    (#"{"type":"mkdir","path":"a/b/c","parents":true}"#,
     .mkdir(MakeDirectory(path: "a/b/c", parents: true))),
    (#"{"type":"rmdir","path":"empty"}"#, .rmdir(PathRequest(path: "empty"))),
    (#"{"type":"rm","path":"old/notes.txt"}"#, .rm(RemoveRequest(path: "old/notes.txt"))),
    (#"{"type":"rm","path":"old","recursive":true}"#, .rm(RemoveRequest(path: "old", recursive: true))),
    (#"{"type":"rename","from":"draft.txt","to":"final.txt"}"#, .rename(RenameRequest(from: "draft.txt", to: "final.txt"))),
    (#"{"type":"rename","from":"notes.txt","to":"final.txt","replace":true}"#,
     .rename(RenameRequest(from: "notes.txt", to: "final.txt", replace: true))),
    (#"{"type":"df"}"#, .df),
]

@Suite("MessageCoder and docs/PROTOCOL.md")
struct DocumentedTranscriptTests {
    @Test("server lines decode and re-encode byte for byte", arguments: documentedServerLines)
    func serverLine(line: String) throws {
        let coder = MessageCoder()
        let message = try coder.decode(Array(line.utf8))
        #expect(String(decoding: try coder.encode(message), as: UTF8.self) == line)
    }

    @Test("client lines decode to the intended message", arguments: documentedClientLines)
    func clientLine(line: String, expected: Message) throws {
        #expect(try MessageCoder().decode(Array(line.utf8)) == expected)
    }
}

@Suite("ErrorReply")
struct ErrorReplyTests {
    @Test("a message up to the limit in UTF-8 bytes is kept whole")
    func shortMessage() {
        let text = String(repeating: "é", count: ErrorReply.maximumMessageLength / 2)
        #expect(text.utf8.count == ErrorReply.maximumMessageLength)
        let reply = ErrorReply(.badRequest, text)
        #expect(reply.message == text)
        #expect(reply.description == text)
        #expect(reply.code == .badRequest)
    }

    @Test("a longer message is cut to the limit in bytes, \"…\" included, so an error frame always fits")
    func longMessage() throws {
        let reply = ErrorReply(.invalidPath, String(repeating: "x", count: 70_000))
        #expect(reply.message == String(repeating: "x", count: ErrorReply.maximumMessageLength - 3) + "…")
        #expect(reply.message.utf8.count == ErrorReply.maximumMessageLength)
        let frame = try MessageCoder().frame(.error(reply))
        #expect(frame.count <= Frame.headerSize + Frame.maximumLength)
    }

    @Test("one grapheme of 32,000 combining marks is cut at a scalar boundary, not kept whole")
    func oneHugeGrapheme() throws {
        let grapheme = "a" + String(repeating: "\u{301}", count: 32_000)
        #expect(grapheme.count == 1)
        let reply = ErrorReply(.badRequest, "unknown message type \"\(grapheme)\"")
        #expect(reply.message.utf8.count <= ErrorReply.maximumMessageLength)
        #expect(reply.message.unicodeScalars.starts(with: "unknown message type \"a\u{301}\u{301}".unicodeScalars))
        #expect(reply.message.unicodeScalars.last == "…")
        let frame = try MessageCoder().frame(.error(reply))
        #expect(frame.count <= Frame.headerSize + 6 * ErrorReply.maximumMessageLength)
    }

    @Test("a cut never splits a multi-byte scalar")
    func cutAtScalarBoundary() {
        // 998 bytes of "x" leave 2 bytes before "…": not enough for "€" (3 bytes), so it is left out.
        let text = String(repeating: "x", count: 995) + "€€€"
        let cut = ErrorReply.cut(text, toBytes: 1000)
        #expect(cut == String(repeating: "x", count: 995) + "…")
    }
}

@Suite("Frame encoding")
struct FrameEncodingTests {
    @Test("a payload over the frame limit is an error, not a trap")
    func oversizedPayloadThrows() {
        #expect(throws: UnframeableMessage(length: Frame.maximumLength + 1)) {
            try Frame.encode([UInt8](repeating: 0x7B, count: Frame.maximumLength + 1))
        }
        #expect(throws: UnframeableMessage(length: 0)) { try Frame.encode([]) }
    }

    @Test("a message that would need more than a frame is refused by the coder")
    func oversizedMessageThrows() {
        let huge = Message.authChallenge(AuthMessage(message: String(repeating: "r", count: 70_000)))
        #expect(throws: UnframeableMessage.self) { try MessageCoder().frame(huge) }
    }
}
