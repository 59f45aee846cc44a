import FerryPosix
import Foundation

/// The shell's local commands: lcd, lpwd, lls, lmkdir, lrm and `!`.
extension Shell {
    /// Changes the process's directory; later gets land there too (sftp's lcd).
    func changeLocalDirectory(_ operand: String?) throws(ClientError) {
        let target = Self.expandingTilde(operand ?? "~")
        guard FileManager.default.changeCurrentDirectoryPath(target) else {
            throw ClientError("lcd \(target): no such local directory")
        }
        localDirectory = FileManager.default.currentDirectoryPath
    }

    /// `lls`: runs ls with the arguments as given (`lls -l`, `lls *.txt` through ls's own globbing).
    func listLocal(_ arguments: [String]) throws(ClientError) {
        let expanded = arguments.map { Glob.hasWildcards($0) ? (try? Glob.expand($0)) ?? [$0] : [Self.expandingTilde($0)] }
        try runLocal("/bin/ls", expanded.flatMap { $0 }, what: "lls")
    }

    func makeLocalDirectories(_ operands: [String], parents: Bool) throws(ClientError) {
        for operand in operands.map(Self.expandingTilde) {
            do {
                try FileManager.default.createDirectory(atPath: operand, withIntermediateDirectories: parents)
            } catch {
                throw ClientError("lmkdir \(operand): \(Self.reason(error))")
            }
        }
    }

    /// Removes local files, never directories (sftp's lrm does not either).
    func removeLocal(_ operands: [String]) throws(ClientError) {
        for path in try localPaths(operands) {
            if DownloadTarget.kind(of: path) == .directory { throw ClientError("lrm \(path): is a directory") }
            do { try File.remove(path: path) } catch { throw ClientError("lrm \(path): \(error.reason)") }
        }
    }

    /// `!command` runs it with $SHELL -c; `!` alone starts an interactive $SHELL.
    func runLocalShell(_ command: String) throws(ClientError) {
        let shell = ProcessInfo.processInfo.environment["SHELL"].flatMap { $0.isEmpty ? nil : $0 } ?? "/bin/sh"
        let trimmed = command.trimmingCharacters(in: .whitespaces)
        try runLocal(shell, trimmed.isEmpty ? [] : ["-c", trimmed], what: "!")
    }

    /// Runs a local program with the shell's standard input, output and error, and waits for it. A
    /// non-zero exit is a failure (a batch stops), as in sftp.
    private func runLocal(_ program: String, _ arguments: [String], what: String) throws(ClientError) {
        Terminal.flushStandardOutput()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        do { try process.run() } catch { throw ClientError("\(what): cannot run \(program): \(Self.reason(error))") }
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw ClientError("\(what): \(program) ended with status \(process.terminationStatus)")
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let posix = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(posix.code)))
        }
        return error.localizedDescription
    }
}
