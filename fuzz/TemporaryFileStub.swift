// Stand-in for Sources/FerryServer/TemporaryFile.swift in the fuzz build, so that SharePath.swift can be
// compiled without FerryCrypto/FerryPosix. Keep `prefix` and `isReserved` identical to the real ones.
enum TemporaryFile {
    static let prefix = ".ferry-upload-"
    static func isReserved(_ name: String) -> Bool { name.utf8.starts(with: prefix.utf8) }
}
