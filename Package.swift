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
        // OpenSSL's libssl and libcrypto, with static inline wrappers for the macros Swift cannot call.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // libedit (BSD editline), the line editor OpenSSH's sftp uses, with static inline wrappers for
        // its variadic el_set, el_get and history.
        .systemLibrary(
            name: "CEdit",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // libcurl, through which the S3 backend speaks HTTP and signs with AWS SigV4 (CURLOPT_AWS_SIGV4),
        // with typed wrappers for its variadic curl_easy_setopt and curl_easy_getinfo.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Declarations of the Linux calls Swift's Glibc module leaves out (syncfs, sync_file_range, renameat2).
        .systemLibrary(name: "CLinux"),
        // Frames, messages, error codes and the INI syntax of both configuration files: pure Swift, no syscalls, no OpenSSL.
        .target(name: "FerryWire"),
        // Digests, HMAC, PBKDF2, random bytes and SCRAM-SHA-256 over libcrypto.
        .target(name: "FerryCrypto", dependencies: ["COpenSSL"]),
        // The only module that calls libc: sockets, files, poll, sendfile, signals.
        .target(name: "FerryPosix", dependencies: ["CLinux"]),
        // Framed messages and file bodies over a socket: what server and client both speak.
        .target(name: "FerryTransport", dependencies: ["FerryWire", "FerryPosix", "FerryCrypto"]),
        // TLS 1.3 over libssl: contexts, streams, server keys and their fingerprints.
        .target(name: "FerryTLS", dependencies: ["COpenSSL", "FerryCrypto", "FerryPosix", "FerryTransport"]),
        // The S3 operations the object-storage backend needs, over libcurl.
        .target(name: "FerryS3", dependencies: ["CCurl"]),
        .target(
            name: "FerryServer",
            dependencies: [
                "FerryS3", "FerryWire", "FerryCrypto", "FerryPosix", "FerryTransport", "FerryTLS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FerryClient",
            dependencies: ["CEdit", "FerryWire", "FerryCrypto", "FerryPosix", "FerryTransport", "FerryTLS"]
        ),
        .executableTarget(
            name: "ferryd",
            dependencies: [
                "FerryServer", "FerryWire", "FerryPosix", "FerryCrypto", "FerryTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FerryClient", "FerryPosix", "FerryTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FerryWireTests", dependencies: ["FerryWire"]),
        .testTarget(name: "FerryCryptoTests", dependencies: ["FerryCrypto"]),
        .testTarget(name: "FerryTLSTests", dependencies: ["FerryTLS", "FerryPosix", "FerryTransport"]),
        .testTarget(name: "FerryServerTests", dependencies: ["FerryServer", "FerryPosix", "FerryWire", "FerryCrypto", "FerryTransport", "FerryS3"]),
        .testTarget(name: "FerryClientTests", dependencies: ["FerryClient", "FerryWire", "FerryPosix"]),
        .testTarget(
            name: "FerryIntegrationTests",
            dependencies: ["FerryServer", "FerryClient", "FerryPosix", "FerryWire", "FerryCrypto", "FerryTransport", "FerryTLS", "FerryS3"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
