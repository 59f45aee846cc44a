#if canImport(Glibc)
import Glibc
#endif
import FerryPosix

/// The local directory a recursive get writes into. Every directory below it is reached one component
/// at a time with openat(O_NOFOLLOW), so a symlink already on the local disk, or a name a server made
/// up, can never lead a download outside it.
final class LocalTree {
    let path: String
    private let root: Descriptor
    /// The directory opened last: a tree's files arrive grouped by directory.
    private var current: (relative: String, descriptor: Descriptor)?

    /// Opens `path`, creating it (not its parents) if it does not exist.
    init(path: String) throws(ClientError) {
        self.path = path
        if !LocalDestination.isDirectory(path) {
            do { try File.makeDirectory(path: path) } catch {
                throw ClientError("cannot create \(path): \(error.reason)")
            }
        }
        do { root = try File.openDirectory(path: path) } catch {
            throw ClientError("\(path): \(error.reason)")
        }
    }

    /// A component a server may name: not empty, ".", ".." or anything with "/" or NUL in it.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
    }

    /// The directory at `relative` ("" is the root), made first when `create` is set and it is missing.
    func directory(_ relative: String, create: Bool = false) throws(ClientError) -> Descriptor {
        if let current, current.relative == relative { return current.descriptor }
        var descriptor = root
        let components = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for (index, name) in components.enumerated() {
            guard Self.isPlainName(name) else { throw ClientError("\(display(relative)): not a plain name") }
            do {
                if create && index == components.count - 1 {
                    do { try File.makeDirectory(name, in: descriptor) } catch where error.code == EEXIST {}
                }
                descriptor = try File.openDirectory(name, in: descriptor)
            } catch {
                throw ClientError("\(display(relative)): \(error.reason)")
            }
        }
        current = (relative, descriptor)
        return descriptor
    }

    /// The local path of `relative`, for messages.
    func display(_ relative: String) -> String {
        relative.isEmpty ? path : (path.hasSuffix("/") ? path + relative : path + "/" + relative)
    }
}
