import FerryPosix
import FerryWire

/// The shell's commands that look at or change the server without moving file contents.
extension Shell {
    func list(_ arguments: ShellArguments) throws(ClientError) {
        let long = arguments.has("l")
        let operands = arguments.operands.isEmpty ? ["."] : arguments.operands
        for (index, operand) in operands.enumerated() {
            if operands.count > 1 { print((index > 0 ? "\n" : "") + operand + ":") }
            if Glob.hasWildcards(operand) {
                let matches = try remoteMatches(operand)
                ListingFormat.lines(matches.map(\.entry), hashes: long).forEach { print($0) }
                continue
            }
            let path = RemotePath.wire(resolve(operand))
            do {
                let listing = try remote { session throws(ClientError) in try session.list(path) }
                ListingFormat.lines(listing.entries, hashes: long).forEach { print($0) }
                if listing.truncated { print("(listing cut short by the server's limit)") }
            } catch where error.code == .notDirectory {
                // A file: list that one entry, as ls and sftp do.
                let entry = try remote { session throws(ClientError) in try session.stat(path) }
                ListingFormat.lines([entry], hashes: long).forEach { print($0) }
            } catch {
                throw ClientError(command: "ls", operand, error)
            }
        }
    }

    func changeDirectory(_ operand: String?) throws(ClientError) {
        let target = resolve(operand ?? "/")
        let entry = try remote { session throws(ClientError) in try session.stat(RemotePath.wire(target)) }
        guard entry.kind == .directory else { throw ClientError("cd: \(target): not a directory") }
        cwd = target
    }

    func status(_ operands: [String]) throws(ClientError) {
        for (label, path) in try remotePaths(operands) {
            let wire = RemotePath.wire(path)
            do {
                try remote { session throws(ClientError) in
                    let entry = try session.stat(wire)
                    let manifest = entry.kind == .file && session.chunked ? try session.manifest(of: wire, md5: true, progress: progress) : nil
                    StatFormat.lines(path: path, entry: entry, manifest: manifest).forEach { print($0) }
                }
            } catch {
                throw ClientError(command: "stat", label, error)
            }
        }
    }

    func makeDirectories(_ arguments: ShellArguments) throws(ClientError) {
        for operand in arguments.operands {
            let wire = RemotePath.wire(resolve(operand))
            do {
                _ = try remote { session throws(ClientError) in try session.makeDirectory(wire, parents: arguments.has("p")) }
            } catch {
                throw ClientError(command: "mkdir", operand, error)
            }
            onRemoteChange()
        }
    }

    // MARK: patterns

    /// A remote file that a pattern matched: its absolute display path and its entry.
    struct Match {
        let path: String
        let entry: Entry
    }

    /// The entries of one directory whose names match the last part of `pattern`, sorted by name; a
    /// pattern that matches nothing is an error naming it. Wildcards are taken in the last part only.
    func remoteMatches(_ pattern: String) throws(ClientError) -> [Match] {
        let absolute = resolve(pattern)
        let parts = absolute.split(separator: "/").map(String.init)
        guard let last = parts.last else { throw ClientError("\(pattern): no match") }
        let directory = "/" + parts.dropLast().joined(separator: "/")
        guard !Glob.hasWildcards(directory) else {
            throw ClientError("\(pattern): wildcards are matched in the last part of a path only")
        }
        let listing = try remote { session throws(ClientError) in try session.list(RemotePath.wire(directory)) }
        let matches = listing.entries
            .filter { Glob.matches($0.name, pattern: last) }
            .sorted { $0.name < $1.name }
            .map { Match(path: RemotePath.resolve($0.name, from: directory), entry: $0) }
        guard !matches.isEmpty else { throw ClientError("\(pattern): no remote name matches") }
        return matches
    }

    /// Each operand as an absolute display path, patterns replaced by what they match; `label` is how
    /// messages name it (the operand as typed, or the matched path).
    func remotePaths(_ operands: [String]) throws(ClientError) -> [(label: String, path: String)] {
        var paths: [(label: String, path: String)] = []
        for operand in operands {
            if Glob.hasWildcards(operand) {
                paths += try remoteMatches(operand).map { ($0.path, $0.path) }
            } else {
                paths.append((operand, resolve(operand)))
            }
        }
        return paths
    }
}

extension ClientError {
    /// "COMMAND PATH: why", the one line a refusal gets; a missing remote file is said in words.
    init(command: String, _ path: String, _ error: ClientError) {
        let why = error.code == .notFound ? "no such file or directory on the server" : error.message
        self.init("\(command) \(path): \(why)", code: error.code)
    }
}
