import FerryPosix
import FerryWire

extension Entry {
    /// The wire entry for a file system entry: sizes only for regular files, FIFOs and the like as "other",
    /// permission bits only for files and directories (a symlink's are always 0777, and mean nothing).
    public init(name: String, status: FileStatus) {
        let kind: Entry.Kind = switch status.kind {
        case .file: .file
        case .directory: .directory
        case .symlink: .symlink
        default: .other
        }
        self.init(name: name, kind: kind, size: kind == .file ? UInt64(status.size) : 0, mtime: status.modificationTime,
                  mode: kind == .file || kind == .directory ? status.mode & 0o7777 : nil)
    }
}
