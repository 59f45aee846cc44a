import FerryPosix
import FerryWire
import Synchronization

/// Bytes stored under each root that a user with a `quota` uploads into, so that a `put` over the
/// quota is refused before a byte is written, as SFTPGo and pure-ftpd do.
///
/// A root is scanned (regular files, without following symlinks, upload temporaries left out, resumable
/// upload partials counted at their full size) the
/// first time a user with a quota uploads into it; from then on ferryd adds what its own uploads
/// change. An upload in flight holds a ``Reservation``, so two at once cannot together pass the quota.
/// Changes other programs make to the directory are seen after a restart. Roots are told apart by
/// device and inode, so users sharing one directory share its count.
final class QuotaLedger: Sendable {
    fileprivate struct Key: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private struct Account {
        var used: UInt64
        var reserved: UInt64 = 0
    }

    private let accounts = Mutex<[Key: Account]>([:])

    /// Room held for one upload until it is committed or dropped.
    final class Reservation {
        private let ledger: QuotaLedger
        private let key: Key
        private let bytes: UInt64
        private var open = true

        fileprivate init(ledger: QuotaLedger, key: Key, bytes: UInt64) {
            self.ledger = ledger
            self.key = key
            self.bytes = bytes
        }

        /// The upload was stored: `stored` bytes now stand where `replaced` bytes stood.
        func commit(stored: UInt64, replaced: UInt64) {
            guard open else { return }
            open = false
            ledger.settle(key, reserved: bytes, stored: stored, replaced: replaced)
        }

        deinit {
            if open { ledger.settle(key, reserved: bytes, stored: 0, replaced: 0) }
        }
    }

    /// Holds room for an upload of `size` bytes replacing a file of `replacing` bytes, or refuses it
    /// with `too_large` when its growth would take the root past `quota`.
    ///
    /// The whole new size is held, not only the growth: the file it replaces may shrink or vanish
    /// (another connection's put) before this upload's rename, and the room that frees must not be
    /// handed out twice. The rename settles the real difference. A put that makes the root no larger
    /// is always let through, so a user over quota can get back under it.
    func reserve(size: UInt64, replacing: UInt64, in root: ShareRoot, quota: UInt64) throws(ErrorReply) -> Reservation {
        let key = try openAccount(for: root)
        return try accounts.withLock { accounts throws(ErrorReply) -> Reservation in
            guard var account = accounts[key] else { throw ErrorReply(.internal, "quota account vanished") }
            if size > replacing {
                let growth = size - replacing
                let committed = account.used + account.reserved
                guard committed <= quota, growth <= quota - committed else {
                    throw ErrorReply(.tooLarge, "this upload needs \(growth) more bytes; your quota is \(quota) bytes and \(account.used) are used"
                                     + (account.reserved > 0 ? " (\(account.reserved) more held by uploads in progress)" : ""))
                }
            }
            account.reserved += size
            accounts[key] = account
            return Reservation(ledger: self, key: key, bytes: size)
        }
    }

    /// The bytes counted as used under `root` (what `df` reports as `quota_used`), counting the root
    /// first if nobody has yet.
    func used(in root: ShareRoot) throws(ErrorReply) -> UInt64 {
        let key = try openAccount(for: root)
        return accounts.withLock { $0[key]?.used ?? 0 }
    }

    /// Files removed by `rm`, `rmdir` or a `rename` over them gave `bytes` back (counted if the root has
    /// a count already).
    func recordRemoval(in root: ShareRoot, bytes: UInt64) {
        recordUpload(in: root, stored: 0, replaced: bytes)
    }

    /// The key of `root`'s account, which is opened with a count of the files under it if there is none.
    private func openAccount(for root: ShareRoot) throws(ErrorReply) -> Key {
        let key: Key
        do { key = try Self.key(of: root) } catch { throw ErrorReply(posix: error) }
        if accounts.withLock({ $0[key] }) == nil {
            let used = Self.usage(of: root.directory)
            accounts.withLock { accounts in
                if accounts[key] == nil { accounts[key] = Account(used: used) }
            }
        }
        return key
    }

    /// An upload by a user without a quota was stored: counted if the root has a count already, since
    /// users sharing a root share its count.
    func recordUpload(in root: ShareRoot, stored: UInt64, replaced: UInt64) {
        guard let key = try? Self.key(of: root) else { return }
        settle(key, reserved: 0, stored: stored, replaced: replaced)
    }

    private static func key(of root: ShareRoot) throws(PosixError) -> Key {
        let status = try FileStatus.of(root.directory)
        return Key(device: status.device, inode: status.inode)
    }

    /// Releases `reserved` bytes of room and counts `stored` bytes in place of `replaced` ones.
    private func settle(_ key: Key, reserved: UInt64, stored: UInt64, replaced: UInt64) {
        accounts.withLock { accounts in
            guard var account = accounts[key] else { return }
            account.reserved -= min(reserved, account.reserved)
            account.used = account.used + stored >= replaced ? account.used + stored - replaced : 0
            accounts[key] = account
        }
    }

    /// The sizes of the regular files under `directory` at any depth, symlinks not followed, upload
    /// temporaries and unreadable parts skipped; the partials of resumable uploads count at their full
    /// size, which is what they hold room for.
    private static func usage(of directory: Descriptor) -> UInt64 {
        var total: UInt64 = 0
        DirectoryTree.forEachEntry(under: directory) { name, _, status in
            guard status.kind == .file else { return }
            if !TemporaryFile.isReserved(name) || TemporaryFile.isResumableData(name) { total += UInt64(max(status.size, 0)) }
        }
        return total
    }
}
