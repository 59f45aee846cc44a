import FerryCrypto
import FerryWire

/// A remote file's manifest as the client assembled it from `manifest` pages, checked for consistency:
/// one digest per chunk of the grid, and the content hash the server named is the one they give.
public struct RemoteManifest: Sendable, Equatable {
    public let name: String
    public let size: UInt64
    public let mtime: Int64
    public let contentHash: String
    public let md5: String?
    public let chunks: [[UInt8]]

    /// Bytes of a chunk digest.
    static let digestLength = 32
}

extension ClientSession {
    /// Reads the `manifest` pages that answer a `fetch`, past any `preparing` notices (shown on
    /// `progress` as the server hashing). An `error` reply is thrown as the server's refusal.
    func receiveManifest(progress: (any TransferProgress)?, label: String) throws(ClientError) -> RemoteManifest {
        var message = try receive()
        var announced = false
        while case .preparing(let preparing) = message {
            if !announced {
                progress?.begin(name: label, total: preparing.total, phase: "server checksumming")
                announced = true
            }
            progress?.update(done: preparing.done)
            message = try receive()
        }
        if announced { progress?.abandon() }
        var hexes: [String] = []
        while true {
            guard case .manifest(let page) = message else { throw unexpected(message) }
            guard page.first == hexes.count, page.chunkSize == ChunkGrid.size,
                  page.chunkCount == ChunkGrid.count(for: page.size), hexes.count + page.chunks.count <= page.chunkCount else {
                throw ClientError("the server sent an inconsistent manifest page (chunk \(page.first) of \(page.chunkCount))")
            }
            hexes += page.chunks
            if !page.more {
                guard hexes.count == page.chunkCount else {
                    throw ClientError("the server's manifest lists \(hexes.count) of \(page.chunkCount) chunks")
                }
                let chunks = hexes.compactMap { [UInt8](hexString: $0) }.filter { $0.count == RemoteManifest.digestLength }
                guard chunks.count == hexes.count else { throw ClientError("the server's manifest holds a malformed digest") }
                guard ContentHash.of(chunks).hexString == page.contentHash else {
                    throw ClientError("the server's manifest does not add up to its content hash \(page.contentHash)")
                }
                return RemoteManifest(name: page.name, size: page.size, mtime: page.mtime, contentHash: page.contentHash,
                                      md5: page.md5, chunks: chunks)
            }
            message = try receive()
        }
    }

    /// The manifest of `remote`, with its MD5 when `md5` is set (the server computes what it lacks);
    /// `label` names the file on `progress` while the server hashes (default: the remote name).
    public func manifest(of remote: String, md5: Bool = false, progress: (any TransferProgress)? = nil,
                         label: String? = nil) throws(ClientError) -> RemoteManifest {
        guard chunked else { throw ClientError("this server does not offer chunk digests (an older ferryd)", code: .unsupported) }
        try send(.fetch(FetchRequest(path: remote, chunks: [], md5: md5 ? true : nil)))
        return try receiveManifest(progress: progress, label: label ?? LocalDestination.fileName(forRemote: remote) ?? remote)
    }

    /// Whether the server offers chunk-verified, resumable transfers.
    public var chunked: Bool { hello.offers(Hello.chunksFeature) }
}
