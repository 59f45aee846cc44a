#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryServer
import Testing

/// A status as stat(2) would report it for a regular file, with chosen identity, size and time.
private func status(device: UInt64 = 1, inode: UInt64 = 2, size: Int64 = 3, seconds: Int64 = 1_700_000_000,
                    nanoseconds: Int64 = 5) -> FileStatus {
    var st = stat()
    st.st_mode = S_IFREG | 0o644
    st.st_dev = __dev_t(device)
    st.st_ino = __ino_t(inode)
    st.st_size = __off_t(size)
    st.st_mtim.tv_sec = Int(seconds)
    st.st_mtim.tv_nsec = Int(nanoseconds)
    return FileStatus(st)
}

/// A file in a fresh directory, opened for reading, with its status.
private struct OpenFile {
    let directory: TemporaryDirectory
    let descriptor: Descriptor
    let status: FileStatus

    init(_ contents: String) throws {
        directory = try TemporaryDirectory()
        try directory.write("f", contents)
        let parent = try File.openDirectory(path: directory.path)
        descriptor = try File.openForReading("f", in: parent)
        status = try FileStatus.of(descriptor)
    }
}

private func md5(_ cache: DigestCache, _ file: OpenFile, bufferSize: Int = 4096) throws -> String {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    defer { buffer.deallocate() }
    return try cache.md5(of: file.descriptor, status: file.status, buffer: buffer)
}

@Suite("DigestCache")
struct DigestCacheTests {
    @Test("the MD5 of a file is its known digest, whatever the buffer size", arguments: [
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func knownDigests(contents: String, digest: String) throws {
        for bufferSize in [1, 3, 64, 4096] {
            let file = try OpenFile(contents)
            #expect(try md5(DigestCache(), file, bufferSize: bufferSize) == digest, "buffer of \(bufferSize)")
        }
    }

    @Test("a hashed file is cached under its status, and the cache is used the second time")
    func cachedAndUsed() throws {
        let cache = DigestCache()
        let file = try OpenFile("abc")
        #expect(cache.lookup(file.status) == nil)
        #expect(try md5(cache, file) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(cache.lookup(file.status) == "900150983cd24fb0d6963f7d28e17f72")

        // A value only the cache could know proves the file is not read again.
        cache.store("fake-digest", for: file.status)
        #expect(try md5(cache, file) == "fake-digest")
        #expect(try md5(DigestCache(), file) == "900150983cd24fb0d6963f7d28e17f72", "another cache reads the file")
    }

    @Test("progress reports the bytes hashed after each chunk, and is not called for a cached file")
    func progress() throws {
        let cache = DigestCache()
        let file = try OpenFile("message digest")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 5, alignment: 16)
        defer { buffer.deallocate() }
        var reported: [UInt64] = []
        let digest = try cache.md5(of: file.descriptor, status: file.status, buffer: buffer) { reported.append($0) }
        #expect(digest == "f96b697d7cb7938d525a2f31aaf161d0")
        #expect(reported == [5, 10, 14])

        reported = []
        #expect(try cache.md5(of: file.descriptor, status: file.status, buffer: buffer) { reported.append($0) } == digest)
        #expect(reported.isEmpty)
    }

    @Test("an error thrown by progress stops hashing and caches nothing")
    func progressThrows() throws {
        struct Stop: Error {}
        let cache = DigestCache()
        let file = try OpenFile("message digest")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 5, alignment: 16)
        defer { buffer.deallocate() }
        var calls = 0
        #expect(throws: Stop.self) {
            try cache.md5(of: file.descriptor, status: file.status, buffer: buffer) { _ in
                calls += 1
                throw Stop()
            }
        }
        #expect(calls == 1)
        #expect(cache.lookup(file.status) == nil)
    }

    @Test("a file that grew after its status was taken is not cached")
    func changedFileNotCached() throws {
        let cache = DigestCache()
        let file = try OpenFile("abc")
        try file.directory.write("f", "abcdef")
        _ = try md5(cache, file)
        #expect(cache.lookup(file.status) == nil)
    }

    @Test("lookup matches only the same device, inode, size and modification time")
    func keyFields() {
        let cache = DigestCache()
        let original = status()
        cache.store("original", for: original)
        #expect(cache.lookup(status()) == "original")
        #expect(cache.lookup(status(device: 9)) == nil)
        #expect(cache.lookup(status(inode: 9)) == nil)
        #expect(cache.lookup(status(size: 4)) == nil)
        #expect(cache.lookup(status(seconds: 1_700_000_001)) == nil)
        #expect(cache.lookup(status(nanoseconds: 6)) == nil)

        cache.store("newer", for: status(nanoseconds: 6))
        #expect(cache.lookup(status(nanoseconds: 6)) == "newer")
        #expect(cache.lookup(original) == "original")
        cache.store("replaced", for: original)
        #expect(cache.lookup(original) == "replaced")
    }

    @Test("forget drops one file's entry and nothing else")
    func forget() {
        let cache = DigestCache()
        cache.store("removed", for: status(inode: 1))
        cache.store("kept", for: status(inode: 2))
        cache.forget(status(inode: 1))
        #expect(cache.lookup(status(inode: 1)) == nil)
        #expect(cache.lookup(status(inode: 2)) == "kept")
        cache.forget(status(inode: 3)) // nothing known of it: no harm
        #expect(cache.lookup(status(inode: 2)) == "kept")
    }

    @Test("past its capacity the cache starts over")
    func capacity() {
        let cache = DigestCache(capacity: 2)
        #expect(cache.capacity == 2)
        cache.store("one", for: status(inode: 1))
        cache.store("two", for: status(inode: 2))
        #expect(cache.lookup(status(inode: 1)) == "one")
        #expect(cache.lookup(status(inode: 2)) == "two")
        cache.store("three", for: status(inode: 3))
        #expect(cache.lookup(status(inode: 3)) == "three")
        #expect(cache.lookup(status(inode: 1)) == nil)
        #expect(cache.lookup(status(inode: 2)) == nil)
    }
}
