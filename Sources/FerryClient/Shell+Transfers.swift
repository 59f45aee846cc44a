import FerryPosix
import FerryWire
import Foundation

/// get, mget, put and mput: which files go where, patterns expanded; the transfers themselves are
/// ClientSession's.
extension Shell {
    func get(_ arguments: ShellArguments) throws(ClientError) {
        var operands = arguments.operands
        let options = try transferOptions(arguments)
        if arguments.has("r") {
            guard operands.count <= 2 else { throw ClientError("usage: get -r remote-directory [local-directory]") }
            return try getTree(operands[0], local: operands.count == 2 ? operands[1] : nil, options: options)
        }
        let local = operands.count > 1 ? operands.removeLast() : nil
        let sources = try remotePaths(operands)
        if sources.count > 1, let local, local != "-", !LocalDestination.isDirectory(local) {
            throw ClientError("get: \(local): several files go into a local directory, and this is not one")
        }
        for source in sources { try getFile(source.path, label: source.label, local: local, options: options) }
    }

    func getMatching(_ patterns: [String], options arguments: ShellArguments) throws(ClientError) {
        let options = try transferOptions(arguments)
        for source in try remotePaths(patterns) { try getFile(source.path, label: source.label, local: nil, options: options) }
    }

    func put(_ arguments: ShellArguments) throws(ClientError) {
        var operands = arguments.operands
        let options = try transferOptions(arguments)
        if arguments.has("r") {
            guard operands.count <= 2 else { throw ClientError("usage: put -r local-directory [remote-directory]") }
            return try putTree(operands[0], remote: operands.count == 2 ? operands[1] : nil, options: options)
        }
        let destination = operands.count > 1 ? operands.removeLast() : nil
        let sources = try localPaths(operands)
        guard let destination else {
            for source in sources { try putFile(source, to: nil, options: options) }
            return
        }
        let target = resolve(destination)
        let isDirectory = try remoteIsDirectory(target)
        if !isDirectory {
            if sources.count > 1 {
                throw ClientError("put: \(destination): several files go into a remote directory, and this is not one")
            }
            // `ferry put a.txt b.txt` is what `put *.txt` expands to: never take the second file for a new name.
            if DownloadTarget.kind(of: destination) == .file && !sameFile(sources[0], destination) {
                throw ClientError("put: \(destination) is a local file too: to send several files name a remote directory last; to store \(sources[0]) under another name, put it and then rename it")
            }
        }
        for source in sources { try putFile(source, to: isDirectory ? target : nil, as: isDirectory ? nil : target, options: options) }
    }

    func putMatching(_ patterns: [String], options arguments: ShellArguments) throws(ClientError) {
        let options = try transferOptions(arguments)
        for source in try localPaths(patterns) { try putFile(source, to: nil, options: options) }
    }

    // MARK: one file or tree

    private func getFile(_ source: String, label: String, local: String?, options: TransferOptions) throws(ClientError) {
        let wire = RemotePath.wire(source)
        do {
            let target = try DownloadTarget.resolve(remote: source, local: local.map(Self.expandingTilde), downloadDirectory: localDirectory)
            switch target {
            case .file(let destination):
                let result = try remote { session throws(ClientError) in
                    try session.download(wire, to: destination, progress: progress, options: options)
                }
                if progress == nil && input.isInteractive { print("\(result.path): \(result.bytes) bytes, verified") }
            case .stream(let path):
                try stream(wire, to: path, options: options)
            }
        } catch {
            throw ClientError(command: "get", label, error)
        }
    }

    /// Downloads into a private temporary directory, then, everything verified, copies the bytes to
    /// standard output (nil) or into the device or pipe at `path`.
    private func stream(_ wire: String, to path: String?, options: TransferOptions) throws(ClientError) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))").path
        do { try File.makeDirectory(path: directory, mode: 0o700) } catch {
            throw ClientError("cannot create a temporary directory \(directory): \(error.reason)")
        }
        let name = LocalDestination.fileName(forRemote: wire) ?? "download"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var streaming = options
        streaming.resume = false
        _ = try remote { session throws(ClientError) in
            try session.download(wire, to: LocalDestination(directory: directory, name: name), progress: progress, options: streaming)
        }
        do {
            let file = try File.openForReading(path: directory + "/" + name)
            if let path {
                let output = try File.openForWriting(path: path)
                try File.copy(file, to: output.rawValue)
            } else {
                try File.copy(file, to: Terminal.standardOutput)
            }
        } catch {
            throw ClientError("writing to \(path ?? "standard output"): \(error.reason)")
        }
    }

    private func getTree(_ remotePath: String, local: String?, options: TransferOptions) throws(ClientError) {
        let wire = RemotePath.wire(resolve(remotePath))
        do throws(ClientError) {
            let target = try LocalDestination.resolveTree(remote: wire, local: local.map(Self.expandingTilde), downloadDirectory: localDirectory)
            let result = try remote { session throws(ClientError) in try session.downloadTree(wire, to: target, progress: progress, options: options) }
            if progress == nil && input.isInteractive { print("\(result.path): \(result.files) files, \(result.bytes) bytes, verified") }
            result.notices.forEach(notice)
            if !result.failures.isEmpty { throw ClientError("\(result.failures.count) of the files could not be fetched") }
        } catch {
            throw ClientError(command: "get -r", remotePath, error)
        }
    }

    /// Uploads `source` into the remote directory `directory`, or as `name` (absolute display paths);
    /// neither: into the remote working directory under its own name.
    private func putFile(_ source: String, to directory: String?, as name: String? = nil, options: TransferOptions) throws(ClientError) {
        guard let base = LocalDestination.fileName(forRemote: source) else { throw ClientError("put: \(source): does not name a file") }
        let target = name ?? RemotePath.resolve(base, from: directory ?? cwd)
        do {
            let result = try remote { session throws(ClientError) in
                try session.upload(source, to: RemotePath.wire(target), progress: progress, options: options)
            }
            onRemoteChange()
            if progress == nil && input.isInteractive { print("/\(result.path): \(result.bytes) bytes, verified") }
        } catch where error.code == .notFound {
            throw ClientError("put \(source): \(RemotePath.resolve("..", from: target)): no such directory on the server", code: .notFound)
        } catch {
            throw ClientError(command: "put", source, error)
        }
    }

    private func putTree(_ local: String, remote remotePath: String?, options: TransferOptions) throws(ClientError) {
        let local = Self.expandingTilde(local)
        guard let name = LocalDestination.fileName(forRemote: local) else { throw ClientError("put -r: \(local): does not name a directory") }
        do throws(ClientError) {
            let result = try remote { session throws(ClientError) in
                let target = try RemotePath.treeTarget(local: name, remote: remotePath, cwd: cwd, session: session)
                return try session.uploadTree(local, to: target, progress: progress, options: options)
            }
            onRemoteChange()
            if progress == nil && input.isInteractive { print("/\(result.path): \(result.files) files, \(result.bytes) bytes, verified") }
            result.notices.forEach(notice)
            if !result.failures.isEmpty { throw ClientError("\(result.failures.count) of the files could not be sent") }
        } catch {
            throw ClientError(command: "put -r", local, error)
        }
    }

    // MARK: helpers

    private func transferOptions(_ arguments: ShellArguments) throws(ClientError) -> TransferOptions {
        var options = transferOptions
        if arguments.has("no-resume") { options.resume = false }
        if arguments.has("md5") { options.md5 = true }
        if arguments.has("preserve") { options.preserve = true }
        if let rate = arguments.value("limit-rate") { options.limitRate = try Self.rate(rate, "--limit-rate \(rate)") }
        return options
    }

    private func remoteIsDirectory(_ path: String) throws(ClientError) -> Bool {
        do {
            return try remote { session throws(ClientError) in try session.stat(RemotePath.wire(path)) }.kind == .directory
        } catch where error.code == .notFound {
            return false
        }
    }

    /// Local operands with `~` and patterns expanded; a pattern that matches nothing is an error.
    func localPaths(_ operands: [String]) throws(ClientError) -> [String] {
        var paths: [String] = []
        for operand in operands {
            guard Glob.hasWildcards(operand) else {
                paths.append(Self.expandingTilde(operand))
                continue
            }
            let matches: [String]
            do { matches = try Glob.expand(operand) } catch { throw ClientError("\(operand): \(error.reason)") }
            guard !matches.isEmpty else { throw ClientError("\(operand): no local name matches") }
            paths += matches
        }
        return paths
    }

    private func sameFile(_ one: String, _ other: String) -> Bool {
        guard let first = try? FileStatus.of(File.openForReading(path: one)),
              let second = try? FileStatus.of(File.openForReading(path: other)) else { return false }
        return first.device == second.device && first.inode == second.inode
    }

    /// `~` and `~/…` as the home directory, as a shell would.
    static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + path.dropFirst()
    }
}
