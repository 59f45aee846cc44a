import FerryPosix
import FerryTransport
import FerryWire
import Foundation

/// The interactive `ferry>` prompt, after OpenSSH's sftp: one connection and one login for the whole
/// session, a remote working directory kept on the client, and local commands prefixed with "l".
///
/// When input is not a terminal the shell runs as a batch, like `sftp -b`: no prompt, and the first
/// failing command stops it with a non-zero status.
public final class Shell {
    private let session: ClientSession
    private let downloadDirectory: String
    private let progress: (any TransferProgress)?
    private let interactive: Bool
    private var cwd = "/"

    public init(session: ClientSession, downloadDirectory: String, progress: (any TransferProgress)?, interactive: Bool) {
        self.session = session
        self.downloadDirectory = downloadDirectory
        self.progress = progress
        self.interactive = interactive
    }

    /// Reads and runs commands until `bye` or end of input. Returns the exit status.
    public func run(readLine: () -> String? = { Swift.readLine() }) -> Int32 {
        if interactive {
            print("Connected to \(session.hello.server) as \(session.user ?? "?")\(session.readOnly ? " (read-only)" : ""). Type help for commands.")
        }
        while true {
            if interactive { Terminal.write("ferry> ", to: Terminal.standardOutput) }
            guard let line = readLine() else {
                if interactive { print("") }
                return 0
            }
            let words: [String]
            do { words = try ShellWords.split(line) } catch {
                if !report("\(error)") { return 1 }
                continue
            }
            guard let command = words.first else { continue }
            if !interactive { print("ferry> \(line)") }
            let arguments = Array(words.dropFirst())
            do {
                if try !execute(command, arguments) { return 0 }
            } catch {
                if !report("\(command)\(arguments.first.map { " \($0)" } ?? ""): \(error.message)") { return 1 }
            }
        }
    }

    /// Prints an error; in batch mode tells the caller to stop.
    private func report(_ message: String) -> Bool {
        Terminal.write("ferry: \(message)\n", to: Terminal.standardError)
        return interactive
    }

    /// Runs one command; false means the shell should end.
    private func execute(_ command: String, _ arguments: [String]) throws(ClientError) -> Bool {
        switch command {
        case "ls", "dir":
            let long = arguments.first == "-l"
            let target = RemotePath.resolve(try optional(Array(arguments.drop { $0 == "-l" }), usage: "ls [-l] [path]") ?? ".", from: cwd)
            let listing = try session.list(RemotePath.wire(target))
            ListingFormat.lines(listing.entries, hashes: long).forEach { print($0) }
            if listing.truncated { print("(listing cut short by the server's limit)") }
        case "cd":
            let target = RemotePath.resolve(try optional(arguments, usage: "cd path") ?? "/", from: cwd)
            let entry = try session.stat(RemotePath.wire(target))
            guard entry.kind == .directory else { throw ClientError("\(target): not a directory") }
            cwd = target
        case "stat":
            guard let name = try optional(arguments, usage: "stat path") else { throw ClientError("usage: stat path") }
            let wire = RemotePath.wire(RemotePath.resolve(name, from: cwd))
            let entry = try session.stat(wire)
            let manifest = entry.kind == .file && session.chunked ? try session.manifest(of: wire, md5: true, progress: progress) : nil
            StatFormat.lines(path: name, entry: entry, manifest: manifest).forEach { print($0) }
        case "pwd":
            print("Remote working directory: \(cwd)")
        case "get" where arguments.first == "-r":
            let (remote, local) = try oneOrTwo(Array(arguments.dropFirst()), usage: "get -r remote-directory [local-directory]")
            let wire = RemotePath.wire(RemotePath.resolve(remote, from: cwd))
            let target = try LocalDestination.resolveTree(remote: wire, local: local, downloadDirectory: downloadDirectory)
            let result = try session.downloadTree(wire, to: target, progress: progress)
            if progress == nil && interactive { print("\(result.path): \(result.files) files, \(result.bytes) bytes, verified") }
            result.notices.forEach { Terminal.write("ferry: \($0)\n", to: Terminal.standardError) }
            if !result.failures.isEmpty {
                throw ClientError("\(result.failures.count) of the files could not be fetched")
            }
        case "get":
            let (remote, local) = try oneOrTwo(arguments, usage: "get remote-path [local-path]")
            let path = RemotePath.resolve(remote, from: cwd)
            let destination = try LocalDestination.resolve(remote: path, local: local, downloadDirectory: downloadDirectory)
            let result = try session.download(RemotePath.wire(path), to: destination, progress: progress)
            if progress == nil && interactive { print("\(result.path): \(result.bytes) bytes, verified") }
        case "put" where arguments.first == "-r":
            let (local, remote) = try oneOrTwo(Array(arguments.dropFirst()), usage: "put -r local-directory [remote-directory]")
            guard let name = LocalDestination.fileName(forRemote: local) else { throw ClientError("\(local): does not name a directory") }
            let target = try RemotePath.treeTarget(local: name, remote: remote, cwd: cwd, session: session)
            let result = try session.uploadTree(local, to: target, progress: progress)
            if progress == nil && interactive { print("/\(result.path): \(result.files) files, \(result.bytes) bytes, verified") }
            result.notices.forEach { Terminal.write("ferry: \($0)\n", to: Terminal.standardError) }
            if !result.failures.isEmpty {
                throw ClientError("\(result.failures.count) of the files could not be sent")
            }
        case "put":
            let (local, remote) = try oneOrTwo(arguments, usage: "put local-path [remote-path]")
            guard let name = LocalDestination.fileName(forRemote: local) else { throw ClientError("\(local): does not name a file") }
            let path = RemotePath.resolve(remote ?? name, from: cwd)
            let result = try session.upload(local, to: RemotePath.wire(path), progress: progress)
            if progress == nil && interactive { print("/\(result.path): \(result.bytes) bytes, verified") }
        case "lcd":
            let target = try optional(arguments, usage: "lcd path") ?? NSHomeDirectory()
            guard FileManager.default.changeCurrentDirectoryPath(target) else {
                throw ClientError("\(target): no such local directory")
            }
        case "lpwd":
            print("Local working directory: \(FileManager.default.currentDirectoryPath)")
        case "lls":
            let target = try optional(arguments, usage: "lls [path]") ?? "."
            ListingFormat.lines(try LocalListing.entries(target)).forEach { print($0) }
        case "help", "?":
            print(Self.help)
        case "bye", "exit", "quit":
            return false
        default:
            throw ClientError("unknown command; type help for the list")
        }
        return true
    }

    private func optional(_ arguments: [String], usage: String) throws(ClientError) -> String? {
        guard arguments.count <= 1 else { throw ClientError("usage: \(usage)") }
        return arguments.first
    }

    private func oneOrTwo(_ arguments: [String], usage: String) throws(ClientError) -> (String, String?) {
        guard (1...2).contains(arguments.count) else { throw ClientError("usage: \(usage)") }
        return (arguments[0], arguments.count == 2 ? arguments[1] : nil)
    }

    static let help = """
        Commands (quote names with spaces: get "my file.txt"):
          ls [-l] [path]            list a remote directory (-l: with short content hashes)
          stat path                 size, time, MD5 and content hash of a remote file
          cd path                   change the remote directory
          pwd                       show the remote directory
          get remote [local]        download (default: into the download directory)
          get -r dir [local]        download a directory and everything in it
          put local [remote]        upload (default: same name in the remote directory)
          put -r dir [remote]       upload a directory and everything in it
          lls [path]                list a local directory
          lcd path                  change the local directory
          lpwd                      show the local directory
          help                      this text
          bye                       leave (also exit, quit, end of input)
        """
}

/// Local directory entries in the same shape as remote ones, for `lls`.
enum LocalListing {
    static func entries(_ path: String) throws(ClientError) -> [Entry] {
        do {
            let directory = try File.openDirectory(path: path)
            let stream = try DirectoryStream(directory)
            var entries: [Entry] = []
            while let name = try stream.next() {
                guard let status = try? FileStatus.of(name, in: directory) else { continue }
                entries.append(Entry(name: name, status: status))
            }
            return entries
        } catch {
            throw ClientError("\(path): \(error.reason)")
        }
    }
}
