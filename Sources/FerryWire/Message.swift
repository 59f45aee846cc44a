import Foundation

/// Every message of the protocol. On the wire each is one JSON object whose "type" names the case and
/// whose other keys are the payload's fields.
public enum Message: Equatable, Sendable {
    case hello(Hello)
    case authStart(AuthStart)
    case authChallenge(AuthMessage)
    case authFinish(AuthMessage)
    case authOK(AuthOK)
    case list(PathRequest)
    case listing(Listing)
    case stat(PathRequest)
    case entry(EntryReply)
    case get(PathRequest)
    case preparing(Preparing)
    case file(FileHeader)
    case put(PutRequest)
    case ready
    case stored(Stored)
    case mkdir(MakeDirectory)
    case rmdir(PathRequest)
    case rm(RemoveRequest)
    case removed(Removed)
    case rename(RenameRequest)
    case df
    case usage(Usage)
    case fetch(FetchRequest)
    case manifest(ManifestPage)
    case chunk(ChunkHeader)
    case upload(UploadRequest)
    case partial(PartialPage)
    case commit(CommitRequest)
    case incomplete(Incomplete)
    case bye
    case error(ErrorReply)

    /// The value of the "type" key.
    public var type: String {
        switch self {
        case .hello: "hello"
        case .authStart: "auth_start"
        case .authChallenge: "auth_challenge"
        case .authFinish: "auth_finish"
        case .authOK: "auth_ok"
        case .list: "ls"
        case .listing: "listing"
        case .stat: "stat"
        case .entry: "entry"
        case .get: "get"
        case .preparing: "preparing"
        case .file: "file"
        case .put: "put"
        case .ready: "ready"
        case .stored: "stored"
        case .mkdir: "mkdir"
        case .rmdir: "rmdir"
        case .rm: "rm"
        case .removed: "removed"
        case .rename: "rename"
        case .df: "df"
        case .usage: "usage"
        case .fetch: "fetch"
        case .manifest: "manifest"
        case .chunk: "chunk"
        case .upload: "upload"
        case .partial: "partial"
        case .commit: "commit"
        case .incomplete: "incomplete"
        case .bye: "bye"
        case .error: "error"
        }
    }
}

extension Message: Codable {
    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        switch type {
        case "hello": self = .hello(try Hello(from: decoder))
        case "auth_start": self = .authStart(try AuthStart(from: decoder))
        case "auth_challenge": self = .authChallenge(try AuthMessage(from: decoder))
        case "auth_finish": self = .authFinish(try AuthMessage(from: decoder))
        case "auth_ok": self = .authOK(try AuthOK(from: decoder))
        case "ls": self = .list(try PathRequest(from: decoder))
        case "listing": self = .listing(try Listing(from: decoder))
        case "stat": self = .stat(try PathRequest(from: decoder))
        case "entry": self = .entry(try EntryReply(from: decoder))
        case "get": self = .get(try PathRequest(from: decoder))
        case "preparing": self = .preparing(try Preparing(from: decoder))
        case "file": self = .file(try FileHeader(from: decoder))
        case "put": self = .put(try PutRequest(from: decoder))
        case "ready": self = .ready
        case "stored": self = .stored(try Stored(from: decoder))
        case "mkdir": self = .mkdir(try MakeDirectory(from: decoder))
        case "rmdir": self = .rmdir(try PathRequest(from: decoder))
        case "rm": self = .rm(try RemoveRequest(from: decoder))
        case "removed": self = .removed(try Removed(from: decoder))
        case "rename": self = .rename(try RenameRequest(from: decoder))
        case "df": self = .df
        case "usage": self = .usage(try Usage(from: decoder))
        case "fetch": self = .fetch(try FetchRequest(from: decoder))
        case "manifest": self = .manifest(try ManifestPage(from: decoder))
        case "chunk": self = .chunk(try ChunkHeader(from: decoder))
        case "upload": self = .upload(try UploadRequest(from: decoder))
        case "partial": self = .partial(try PartialPage(from: decoder))
        case "commit": self = .commit(try CommitRequest(from: decoder))
        case "incomplete": self = .incomplete(try Incomplete(from: decoder))
        case "bye": self = .bye
        case "error": self = .error(try ErrorReply(from: decoder))
        default: throw WireError.malformedMessage("unknown message type \"\(type)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .hello(let payload): try payload.encode(to: encoder)
        case .authStart(let payload): try payload.encode(to: encoder)
        case .authChallenge(let payload), .authFinish(let payload): try payload.encode(to: encoder)
        case .authOK(let payload): try payload.encode(to: encoder)
        case .list(let payload), .stat(let payload), .get(let payload), .rmdir(let payload): try payload.encode(to: encoder)
        case .listing(let payload): try payload.encode(to: encoder)
        case .entry(let payload): try payload.encode(to: encoder)
        case .preparing(let payload): try payload.encode(to: encoder)
        case .file(let payload): try payload.encode(to: encoder)
        case .put(let payload): try payload.encode(to: encoder)
        case .stored(let payload): try payload.encode(to: encoder)
        case .error(let payload): try payload.encode(to: encoder)
        case .mkdir(let payload): try payload.encode(to: encoder)
        case .rm(let payload): try payload.encode(to: encoder)
        case .removed(let payload): try payload.encode(to: encoder)
        case .rename(let payload): try payload.encode(to: encoder)
        case .usage(let payload): try payload.encode(to: encoder)
        case .fetch(let payload): try payload.encode(to: encoder)
        case .manifest(let payload): try payload.encode(to: encoder)
        case .chunk(let payload): try payload.encode(to: encoder)
        case .upload(let payload): try payload.encode(to: encoder)
        case .partial(let payload): try payload.encode(to: encoder)
        case .commit(let payload): try payload.encode(to: encoder)
        case .incomplete(let payload): try payload.encode(to: encoder)
        case .ready, .bye, .df: break
        }
    }
}

/// Turns messages into frame payloads and back. One per connection: the coders are reused, not shared.
public struct MessageCoder {
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()

    public init() {
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    /// The JSON payload of `message` (without the length prefix).
    ///
    /// Every field of every message is a string, number, bool or array of them, which JSONEncoder always
    /// encodes; should it fail all the same, the message is reported as unframeable rather than trapping.
    public func encode(_ message: Message) throws(UnframeableMessage) -> [UInt8] {
        do {
            return Array(try encoder.encode(message))
        } catch {
            throw UnframeableMessage(length: 0)
        }
    }

    /// The whole frame for `message`: length prefix and JSON. Throws when it is larger than a frame.
    public func frame(_ message: Message) throws(UnframeableMessage) -> [UInt8] {
        try Frame.encode(encode(message))
    }

    /// Parses one frame payload. Anything but a JSON object of a known type with well-typed fields is refused.
    public func decode(_ payload: [UInt8]) throws(WireError) -> Message {
        guard payload.first == UInt8(ascii: "{") else {
            throw WireError.malformedMessage("a frame must hold one JSON object")
        }
        if let violation = StrictJSON.violation(in: payload) {
            throw WireError.malformedMessage(violation)
        }
        do {
            return try decoder.decode(Message.self, from: Data(payload))
        } catch let error as WireError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw WireError.malformedMessage("missing field \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw WireError.malformedMessage("wrong type for \(Self.fieldName(context))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw WireError.malformedMessage("null for \(Self.fieldName(context))")
        } catch let DecodingError.dataCorrupted(context) {
            throw WireError.malformedMessage(context.codingPath.isEmpty
                ? "not valid JSON" : "invalid value for \(Self.fieldName(context))")
        } catch {
            throw WireError.malformedMessage("not valid JSON")
        }
    }

    private static func fieldName(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? "the message" : "field \"\(path)\""
    }
}
