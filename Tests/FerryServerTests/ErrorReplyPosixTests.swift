#if canImport(Glibc)
import Glibc
#endif
import FerryPosix
import FerryServer
import FerryWire
import Testing

@Suite("ErrorReply(posix:)")
struct ErrorReplyPosixTests {
    @Test("errno values map to the codes a client is shown", arguments: [
        (ENOENT, ErrorCode.notFound), (EACCES, .permissionDenied), (EPERM, .permissionDenied),
        (ELOOP, .permissionDenied), (EISDIR, .isDirectory), (ENOTDIR, .notDirectory),
        (ENAMETOOLONG, .invalidPath), (ENOSPC, .tooLarge), (EDQUOT, .tooLarge), (EFBIG, .tooLarge),
        (EEXIST, .permissionDenied), (ENOTEMPTY, .notEmpty), (EIO, .internal), (EBADF, .internal),
    ])
    func mapping(code: Int32, expected: ErrorCode) {
        let reply = ErrorReply(posix: PosixError(code: code, function: "openat"))
        #expect(reply.code == expected)
        #expect(!reply.message.isEmpty)
        #expect(!reply.message.contains("openat"), "the server's own call names are not shown")
    }

    @Test("an unexpected errno is reported with strerror's text")
    func internalMessage() {
        let reply = ErrorReply(posix: PosixError(code: EIO, function: "pread"))
        #expect(reply.message == String(cString: strerror(EIO)))
    }
}
