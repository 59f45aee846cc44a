// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Ferry",
    products: [
        .executable(name: "ferryd", targets: ["ferryd"]),
        .executable(name: "ferry", targets: ["ferry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        // OpenSSL's libcrypto, with static inline wrappers for the macros Swift cannot call.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // Declarations of the Linux calls Swift's Glibc module leaves out (syncfs, sync_file_range).
        .systemLibrary(name: "CLinux"),
        // Frames, messages and error codes: pure Swift, no syscalls, no OpenSSL.
        .target(name: "FerryWire"),
        // Digests, HMAC, PBKDF2, random bytes and SCRAM-SHA-256 over libcrypto.
        .target(name: "FerryCrypto", dependencies: ["COpenSSL"]),
        // The only module that calls libc: sockets, files, poll, sendfile, signals.
        .target(name: "FerryPosix", dependencies: ["CLinux"]),
        // Framed messages and file bodies over a socket: what server and client both speak.
        .target(name: "FerryTransport", dependencies: ["FerryWire", "FerryPosix", "FerryCrypto"]),
        .target(
            name: "FerryServer",
            dependencies: [
                "FerryWire", "FerryCrypto", "FerryPosix", "FerryTransport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FerryClient",
            dependencies: ["FerryWire", "FerryCrypto", "FerryPosix", "FerryTransport"]
        ),
        .executableTarget(
            name: "ferryd",
            dependencies: [
                "FerryServer", "FerryPosix", "FerryCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FerryClient", "FerryPosix",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FerryWireTests", dependencies: ["FerryWire"]),
        .testTarget(name: "FerryCryptoTests", dependencies: ["FerryCrypto"]),
        .testTarget(name: "FerryServerTests", dependencies: ["FerryServer", "FerryPosix", "FerryWire"]),
        .testTarget(name: "FerryClientTests", dependencies: ["FerryClient", "FerryWire"]),
        .testTarget(
            name: "FerryIntegrationTests",
            dependencies: ["FerryServer", "FerryClient", "FerryPosix", "FerryWire", "FerryCrypto", "FerryTransport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
