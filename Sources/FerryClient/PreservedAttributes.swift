import FerryPosix
import FerryWire

/// What `get -p` keeps of a remote file: its modification time and its permission bits (only the
/// 0777 ones: never set-user-ID, set-group-ID or sticky from a server). Set on the downloaded file
/// after it was verified and before it is renamed into place, so it appears with them.
struct PreservedAttributes {
    /// Seconds since the epoch.
    let mtime: Int64
    /// Permission bits, nil when the server did not say (an older ferryd): then the file keeps the
    /// mode new files get here.
    let mode: UInt32?

    init(mtime: Int64, mode: UInt32?) {
        self.mtime = mtime
        self.mode = mode.map { $0 & 0o777 }
    }

    /// Sets them on the open file, which will be `path`.
    func apply(to file: Descriptor, path: String) throws(ClientError) {
        do {
            if let mode { try File.setMode(file, mode) }
            try File.setModificationTime(file, seconds: mtime)
        } catch {
            throw ClientError("cannot keep the modification time and mode of \(path): \(error.reason)")
        }
    }
}

extension TransferOptions {
    /// The attributes to give a downloaded file: with ``preserve``, the server's modification time and
    /// the mode it listed; nil without.
    func attributes(mtime: Int64, mode: UInt32?) -> PreservedAttributes? {
        preserve ? PreservedAttributes(mtime: mtime, mode: mode) : nil
    }
}
