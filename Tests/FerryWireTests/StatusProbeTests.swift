import FerryWire
import Foundation
import Testing

@Suite("StatusProbe")
struct StatusProbeTests {
    static let status = StatusReport(
        server: "ferryd/0.1.0", protocols: [2], uptime: 3725, sessions: 3, transfers: 1, accepting: true, malformed: 7
    )

    @Test("a request is magic, version, kind, the nonce big-endian, then zeros to 1200 bytes")
    func requestLayout() throws {
        let request = StatusProbe.request(nonce: 0x0102_0304_0506_0708)
        #expect(request.count == 1200)
        #expect(Array(request.prefix(14)) == [0x46, 0x52, 0x59, 0x50, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(request.dropFirst(14).allSatisfy { $0 == 0 })
        #expect(try StatusProbe.parseRequest(request) == 0x0102_0304_0506_0708)
        let longer = StatusProbe.request(nonce: 9, length: 1500)
        #expect(longer.count == 1500)
        #expect(try StatusProbe.parseRequest(longer) == 9)
        #expect(StatusProbe.request(nonce: 9, length: 10).count == 1200, "never padded to less than the minimum")
    }

    @Test("a reply round-trips its nonce and status, as compact JSON with sorted keys")
    func replyRoundTrip() throws {
        let reply = StatusProbe.reply(nonce: .max, status: Self.status)
        #expect(Array(reply.prefix(14)) == [0x46, 0x52, 0x59, 0x50, 1, 2] + [UInt8](repeating: 0xFF, count: 8))
        let json = String(decoding: reply.dropFirst(14), as: UTF8.self)
        #expect(json == #"{"accepting":true,"malformed":7,"protocols":[2],"server":"ferryd/0.1.0","sessions":3,"transfers":1,"uptime":3725}"#)
        let (nonce, status) = try StatusProbe.parseReply(reply)
        #expect(nonce == .max)
        #expect(status == Self.status)
    }

    @Test("a request shorter than 1200 bytes is refused, however well-formed its header", arguments: [0, 1, 13, 14, 100, 1199])
    func shortRequestRefused(length: Int) {
        let bytes = Array(StatusProbe.request(nonce: 1).prefix(length))
        #expect(throws: StatusProbeError.tooShort(length)) { try StatusProbe.parseRequest(bytes) }
    }

    @Test("malformed requests are refused")
    func malformedRequestsRefused() {
        let good = StatusProbe.request(nonce: 42)
        var magic = good
        magic[0] = UInt8(ascii: "G")
        var version = good
        version[4] = 2
        var kind = good
        kind[5] = StatusProbe.replyKind
        var padding = good
        padding[1199] = 1
        #expect(throws: StatusProbeError.badMagic) { try StatusProbe.parseRequest(magic) }
        #expect(throws: StatusProbeError.unsupportedVersion(2)) { try StatusProbe.parseRequest(version) }
        #expect(throws: StatusProbeError.wrongKind(2)) { try StatusProbe.parseRequest(kind) }
        #expect(throws: StatusProbeError.nonzeroPadding) { try StatusProbe.parseRequest(padding) }
        #expect(throws: StatusProbeError.tooLong(2049)) { try StatusProbe.parseRequest(good + [UInt8](repeating: 0, count: 849)) }
        #expect(throws: StatusProbeError.badMagic) { try StatusProbe.parseRequest([UInt8](repeating: 0, count: 1200)) }
        let reply = StatusProbe.reply(nonce: 42, status: Self.status)
        #expect(throws: StatusProbeError.wrongKind(2)) { try StatusProbe.parseRequest(reply + [UInt8](repeating: 0, count: 1200)) }
    }

    @Test("malformed replies are refused")
    func malformedRepliesRefused() {
        let header = Array(StatusProbe.reply(nonce: 1, status: Self.status).prefix(14))
        func reply(_ json: String) -> [UInt8] { header + Array(json.utf8) }
        #expect(throws: StatusProbeError.tooShort(14)) { try StatusProbe.parseReply(header) }
        #expect(throws: StatusProbeError.wrongKind(1)) { try StatusProbe.parseReply(StatusProbe.request(nonce: 1).prefix(100)) }
        #expect(throws: StatusProbeError.tooLong(1200)) { try StatusProbe.parseReply(reply(String(repeating: " ", count: 1186))) }
        for json in ["[]", " {}", "{}", #"{"accepting":true}"#, "not json",
                     #"{"accepting":true,"malformed":-1,"protocols":[2],"server":"s","sessions":0,"transfers":0,"uptime":0}"#,
                     #"{"accepting":true,"accepting":false,"malformed":0,"protocols":[2],"server":"s","sessions":0,"transfers":0,"uptime":0}"#] {
            #expect(throws: StatusProbeError.self, "\(json)") { try StatusProbe.parseReply(reply(json)) }
        }
    }

    @Test("no status makes a reply as long as the shortest request")
    func replyIsAlwaysSmallerThanTheRequest() throws {
        let largest = StatusReport(
            server: String(repeating: "\u{1}\"\\é", count: 500) + String(repeating: "v", count: 500),
            protocols: Array(repeating: .min, count: 100), uptime: .max, sessions: .max, transfers: .max, accepting: false, malformed: .max
        )
        let reply = StatusProbe.reply(nonce: .max, status: largest)
        #expect(reply.count <= StatusProbe.maximumReplyLength)
        #expect(StatusProbe.maximumReplyLength < StatusProbe.minimumRequestLength)
        let (_, parsed) = try StatusProbe.parseReply(reply)
        #expect(parsed.server == String(repeating: "v", count: StatusReport.maximumServerLength))
        #expect(parsed.protocols.count == StatusReport.maximumProtocols)
        #expect(parsed.malformed == .max)
    }
}
