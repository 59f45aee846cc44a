import FerryPosix
import FerryServer
import Testing

/// On a share that several ferryd serve (docs/SCALING.md), a node's sweep at start or stop must leave
/// the temporary file of a `put` that another node is still writing: the lock on it says so.
@Suite("sweeping a shared share")
struct SharedShareSweepTests {
    @Test("a plain temporary file under a lock stays; once the lock is gone it goes")
    func lockedTemporaryFileStays() throws {
        let base = try TemporaryDirectory()
        try base.makeDirectory("root/sub")
        try base.write("root/sub/.ferry-upload-busy.part", "another node's put")
        try base.write("root/.ferry-upload-idle.part", "a crash's leftover")
        let root = try File.openDirectory(path: base.url("root"))
        // Another node's upload: its own open file and lock (flock locks belong to the open file, so
        // a second open, here or on another machine of the shared filesystem, is refused it).
        let other = try File.openForUpdate(path: base.url("root/sub/.ferry-upload-busy.part"), create: false)
        #expect(try File.tryLock(other))

        #expect(TemporaryFile.sweep(root: root) == 1)
        #expect(base.exists("root/sub/.ferry-upload-busy.part"))
        #expect(!base.exists("root/.ferry-upload-idle.part"))

        other.close()
        #expect(TemporaryFile.sweep(root: root) == 1)
        #expect(!base.exists("root/sub/.ferry-upload-busy.part"))
    }
}
