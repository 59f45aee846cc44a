import FerryWire
import Testing

@Suite("ChunkGrid and ChunkRange")
struct ChunkGridTests {
    static let sizes: [(UInt64, Int)] = [
        (0, 0), (1, 1), (4 << 20, 1), (4 << 20 + 1, 2), (13 << 20 + 7, 4), (1 << 40, 262_144),
    ]

    @Test("chunk counts, offsets and lengths on the 4 MiB grid", arguments: sizes)
    func grid(size: UInt64, count: Int) {
        #expect(ChunkGrid.count(for: size) == count)
        let lengths = (0..<count).map { ChunkGrid.length(of: $0, fileSize: size) }
        #expect(lengths.reduce(UInt64(0)) { $0 + UInt64($1) } == size, "the chunks cover the file exactly")
        #expect(lengths.dropLast().allSatisfy { $0 == ChunkGrid.size }, "only the last chunk may be short")
        #expect(ChunkGrid.length(of: count, fileSize: size) == 0, "nothing past the end")
    }

    @Test("indices fold into the fewest ranges, sorted and without duplicates")
    func ranges() {
        #expect(ChunkRange.ranges(of: [5, 1, 2, 3, 9, 2]) == [
            ChunkRange(first: 1, count: 3), ChunkRange(first: 5, count: 1), ChunkRange(first: 9, count: 1),
        ])
        #expect(ChunkRange.ranges(of: []) == [])
    }

    @Test("a range is [first, count] on the wire; anything else is refused")
    func wire() throws {
        let coder = MessageCoder()
        let message = try coder.decode(Array(#"{"type":"fetch","path":"a","chunks":[[0,2],[5,1]]}"#.utf8))
        #expect(message == .fetch(FetchRequest(path: "a", chunks: [ChunkRange(first: 0, count: 2), ChunkRange(first: 5, count: 1)])))
        for bad in [#"[[0]]"#, #"[[0,1,2]]"#, #"[[0.0,1]]"#, #"[[0,1e0]]"#, #"[["0",1]]"#] {
            #expect(throws: WireError.self, "chunks \(bad)") {
                try coder.decode(Array(#"{"type":"fetch","path":"a","chunks":\#(bad)}"#.utf8))
            }
        }
    }

    @Test("hello's features: absent means none, and unknown names are kept for the client to ignore")
    func features() throws {
        let coder = MessageCoder()
        guard case .hello(let old) = try coder.decode(Array(#"{"auth":["SCRAM-SHA-256"],"chunk_size":1,"protocol":1,"server":"x","type":"hello"}"#.utf8)) else {
            Issue.record("not a hello")
            return
        }
        #expect(!old.offers(Hello.chunksFeature))
        guard case .hello(let new) = try coder.decode(Array(#"{"auth":[],"chunk_size":1,"features":["chunks","teleport"],"protocol":1,"server":"x","type":"hello"}"#.utf8)) else {
            Issue.record("not a hello")
            return
        }
        #expect(new.offers(Hello.chunksFeature) && !new.offers(Hello.mkdirFeature))
    }

    @Test("a commit may say it is the last word of its upload")
    func lastCommit() throws {
        let line = #"{"type":"commit","content_hash":"9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50","last":true}"#
        #expect(try MessageCoder().decode(Array(line.utf8))
                == .commit(CommitRequest(contentHash: "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50", last: true)))
    }
}
