import Foundation

/// A fresh directory under the system temporary directory, removed with everything in it at deinit.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-server-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The absolute path of `relative` inside this directory.
    func url(_ relative: String) -> String { path + "/" + relative }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: url(relative), withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ contents: String) throws {
        try Data(contents.utf8).write(to: URL(fileURLWithPath: url(relative)))
    }

    func symlink(_ relative: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: url(relative), withDestinationPath: destination)
    }

    func exists(_ relative: String) -> Bool {
        // Does not follow a final symlink: a dangling link still exists.
        (try? FileManager.default.attributesOfItem(atPath: url(relative))) != nil
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: url(relative), encoding: .utf8)
    }
}
