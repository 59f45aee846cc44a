#if canImport(Glibc)
import Glibc
#endif

/// Reads a directory's entry names one at a time (readdir), without "." and "..", so that a huge
/// directory never has to sit in memory whole. Owns its DIR* and closes it at deinit.
public final class DirectoryStream {
    private var handle: OpaquePointer?

    /// Opens a stream over the directory `directory`; the caller keeps its own descriptor.
    ///
    /// The stream reads through a new open file description of the same directory, not a dup: a dup
    /// would share the read position, and two sessions listing one directory would steal each other's
    /// entries.
    public init(_ directory: Descriptor) throws(PosixError) {
        let copy = try Posix.openat(directory.rawValue, ".", flags: O_RDONLY | O_DIRECTORY)
        guard let dir = fdopendir(copy) else {
            let code = errno
            Posix.close(copy)
            throw PosixError(code: code, function: "fdopendir")
        }
        handle = dir
    }

    deinit {
        if let handle { closedir(handle) }
    }

    /// The next entry's name, or nil at the end.
    public func next() throws(PosixError) -> String? {
        guard let handle else { return nil }
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { throw PosixError(code: errno, function: "readdir") }
                return nil
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            return name
        }
    }
}
