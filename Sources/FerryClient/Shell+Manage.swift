import FerryWire

/// rmdir, rm, rename and df: the file management commands of the feature `manage`.
extension Shell {
    func removeDirectories(_ operands: [String]) throws(ClientError) {
        for operand in operands {
            let wire = RemotePath.wire(resolve(operand))
            do {
                try remote { session throws(ClientError) in try session.removeDirectory(wire) }
            } catch {
                throw ClientError(command: "rmdir", operand, error)
            }
            onRemoteChange()
        }
    }

    func remove(_ arguments: ShellArguments) throws(ClientError) {
        let recursive = arguments.has("r")
        for (label, path) in try remotePaths(arguments.operands) {
            if recursive && !arguments.has("f"),
               (try? remote({ session throws(ClientError) in try session.stat(RemotePath.wire(path)) }))?.kind == .directory,
               !confirm("rm: remove \(path) and everything in it?") {
                throw ClientError("rm \(label): not removed" + (input.isInteractive ? "" : " (-r asks first; give -f where no one can answer)"))
            }
            let removed: Removed
            do {
                removed = try remote { session throws(ClientError) in try session.remove(RemotePath.wire(path), recursive: recursive) }
            } catch {
                throw ClientError(command: "rm", label, error)
            }
            onRemoteChange()
            if input.isInteractive && recursive {
                print("removed \(path): \(Self.count(removed.files, "file")), \(Self.count(removed.directories, "directory", "directories")), \(ByteFormat.size(removed.bytes))")
            }
        }
    }

    func rename(_ arguments: ShellArguments) throws(ClientError) {
        let (old, new) = (arguments.operands[0], arguments.operands[1])
        let from = RemotePath.wire(resolve(old))
        var to = resolve(new)
        // Into an existing directory, keeping the name, as mv does.
        if let entry = try? remote({ session throws(ClientError) in try session.stat(RemotePath.wire(to)) }),
           entry.kind == .directory, let name = LocalDestination.fileName(forRemote: from), to != resolve(old) {
            to = RemotePath.resolve(name, from: to)
        }
        do {
            _ = try remote { session throws(ClientError) in try session.rename(from, to: RemotePath.wire(to), replace: arguments.has("f")) }
        } catch where error.code == .alreadyExists {
            throw ClientError("rename \(old) \(new): \(new) exists already (-f replaces it)", code: .alreadyExists)
        } catch {
            throw ClientError(command: "rename", "\(old) \(new)", error)
        }
        onRemoteChange()
    }

    static func count(_ number: UInt64, _ one: String, _ many: String? = nil) -> String {
        "\(number) " + (number == 1 ? one : many ?? one + "s")
    }

    func diskUsage() throws(ClientError) {
        let usage = try remote { session throws(ClientError) in try session.usage() }
        let quota = usage.quota.map { quota in
            "\(ByteFormat.size(usage.quotaUsed)) of \(ByteFormat.size(quota)) (\(ByteFormat.size(quota > usage.quotaUsed ? quota - usage.quotaUsed : 0)) left)"
        } ?? "\(ByteFormat.size(usage.quotaUsed)) (no quota)"
        print("quota used: \(quota)")
        // A server on object storage has no disk to report: it sends 0 of 0.
        print(usage.diskTotal == 0 ? "server disk: n/a (object storage)"
              : "server disk: \(ByteFormat.size(usage.diskFree)) free of \(ByteFormat.size(usage.diskTotal))")
    }
}
