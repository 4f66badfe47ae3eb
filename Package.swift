// swift-tools-version: 6.2
//
// Strata: an embeddable, persistent LSM-tree key-value store.
//
// The module graph is a strict chain (see Docs/ARCHITECTURE.md):
//
//     Encoding ← VFS ← WAL ← Memtable ← SSTable ← Manifest ← Compaction ← Engine
//
// A module may depend only on modules to its left. The C libraries (CLZ4, CZstd, CXXHash)
// are used only by Encoding. `make check-dag` enforces both rules on this file and on the
// `import` lines under Modules/.
//
// Traits keep what the library's consumers resolve and build small. The libraries need only
// swift-log, swift-collections and swift-metrics; the command-line tools, benchmarks and fuzz
// harness need swift-argument-parser and hdrhistogram-swift, which every reference to them
// guards with the `Tools` trait. `Tools` is on by default, so `swift build` in this repository
// builds everything; a package that depends on Strata with `traits: []` resolves none of the
// tools' packages (SwiftPM leaves out a dependency used only under disabled traits).

import PackageDescription

/// Settings every Strata target shares: Swift 6 mode (strict concurrency is complete by
/// default there) and warnings treated as errors, so "zero warnings" is enforced by the build.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Encoding", targets: ["Encoding"]),
        .library(name: "VFS", targets: ["VFS"]),
        .library(name: "WAL", targets: ["WAL"]),
        .library(name: "Memtable", targets: ["Memtable"]),
        .library(name: "SSTable", targets: ["SSTable"]),
        .library(name: "Manifest", targets: ["Manifest"]),
        .library(name: "Compaction", targets: ["Compaction"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Strata", targets: ["Strata"]),
        .library(name: "Tables", targets: ["Tables"]),
        .library(name: "ObjectStore", targets: ["ObjectStore"]),
        .library(name: "ObjectStoreS3", targets: ["ObjectStoreS3"]),
        .library(name: "Server", targets: ["Server"]),
        .executable(name: "strata-server", targets: ["strata-server"]),
        .executable(name: "strata", targets: ["strata"]),
        .executable(name: "strata-bench", targets: ["strata-bench"]),
        .executable(name: "strata-stress", targets: ["strata-stress"]),
        .executable(name: "strata-fuzz", targets: ["strata-fuzz"]),
    ],
    traits: [
        .trait(
            name: "Server",
            description: "The Server library and strata-server: gRPC (grpc-swift-2, NIO, swift-protobuf), swift-service-lifecycle, swift-prometheus."),
        .trait(
            name: "S3",
            description: "ObjectStoreS3: the S3 client (async-http-client, swift-crypto)."),
        .trait(
            name: "Tools",
            description: "The strata CLI, strata-bench, strata-stress and the fuzz harness, with swift-argument-parser and hdrhistogram-swift (and the server, which the CLI can talk to).",
            enabledTraits: ["Server", "S3"]),
        .default(enabledTraits: ["Tools"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // MARK: C libraries (system modules, used only by Encoding)
        .systemLibrary(
            name: "CLZ4", path: "Modules/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]),
        .systemLibrary(
            name: "CZstd", path: "Modules/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        .systemLibrary(
            name: "CXXHash", path: "Modules/CXXHash", pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"]), .brew(["xxhash"])]),

        // MARK: The module chain
        .target(
            name: "Encoding", dependencies: ["CLZ4", "CZstd", "CXXHash"],
            path: "Modules/Encoding", swiftSettings: strictSettings),
        .target(
            name: "VFS", dependencies: ["Encoding"],
            path: "Modules/VFS", swiftSettings: strictSettings),
        .target(
            name: "WAL", dependencies: ["Encoding", "VFS"],
            path: "Modules/WAL", swiftSettings: strictSettings),
        .target(
            name: "Memtable", dependencies: ["Encoding", "WAL"],
            path: "Modules/Memtable", swiftSettings: strictSettings),
        .target(
            name: "SSTable", dependencies: ["Encoding", "VFS", "Memtable"],
            path: "Modules/SSTable", swiftSettings: strictSettings),
        .target(
            name: "Manifest", dependencies: ["Encoding", "VFS", "WAL", "SSTable"],
            path: "Modules/Manifest", swiftSettings: strictSettings),
        .target(
            name: "Compaction",
            dependencies: [
                "Encoding", "VFS", "SSTable", "Manifest",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Modules/Compaction", swiftSettings: strictSettings),
        .target(
            name: "Engine",
            dependencies: [
                "Encoding", "VFS", "WAL", "Memtable", "SSTable", "Manifest", "Compaction", "ObjectStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Modules/Engine", swiftSettings: strictSettings),
        // The umbrella product: `import Strata` gives the Engine API.
        .target(name: "Strata", dependencies: ["Engine"], path: "Modules/Strata", swiftSettings: strictSettings),
        // Typed tables over the Engine (issue 21); so far the order-preserving key encodings.
        .target(name: "Tables", dependencies: ["Encoding", "Engine"], path: "Modules/Tables", swiftSettings: strictSettings),

        // MARK: Object storage: the protocol and local stores (no networking), and the S3 client (trait S3)
        .target(
            name: "ObjectStore", dependencies: ["Encoding", "VFS"],
            path: "Modules/ObjectStore", swiftSettings: strictSettings),
        .target(
            name: "ObjectStoreS3",
            dependencies: [
                "ObjectStore", "Encoding",
                .product(name: "AsyncHTTPClient", package: "async-http-client", condition: .when(traits: ["S3"])),
                .product(name: "Crypto", package: "swift-crypto", condition: .when(traits: ["S3"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["S3"])),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(traits: ["S3"])),
            ],
            path: "Modules/ObjectStoreS3", swiftSettings: strictSettings),

        // MARK: The server (trait Server): the database over gRPC
        .target(
            name: "Server",
            dependencies: [
                "Strata", "Engine", "VFS", "Encoding", "ObjectStoreS3", "Tables",
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["Server"])),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport", condition: .when(traits: ["Server"])),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf", condition: .when(traits: ["Server"])),
                .product(name: "SwiftProtobuf", package: "swift-protobuf", condition: .when(traits: ["Server"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Server"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["Server"])),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(traits: ["Server"])),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["Server"])),
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["Server"])),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/Server", exclude: ["Generated/README.md"], swiftSettings: strictSettings),
        .executableTarget(
            name: "strata-server",
            dependencies: [
                "Server", "Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
            ],
            path: "Tools/strata-server", swiftSettings: strictSettings),

        // MARK: Tools
        .target(
            name: "StrataTool",
            dependencies: [
                "Engine", "Manifest", "SSTable", "Memtable", "WAL", "VFS", "Encoding", "Server", "ObjectStore", "ObjectStoreS3", "Tables",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["Server"])),
            ],
            path: "Tools/StrataTool", swiftSettings: strictSettings),
        .executableTarget(name: "strata", dependencies: ["StrataTool"], path: "Tools/strata", swiftSettings: strictSettings),

        // MARK: Benchmarks
        .executableTarget(
            name: "strata-microbench", dependencies: ["Encoding", "VFS", "WAL", "Memtable", "SSTable", "Manifest", "Compaction"],
            path: "Benchmarks/MicroBench", swiftSettings: strictSettings),
        .executableTarget(
            name: "strata-bench",
            dependencies: [
                "Engine", "VFS", "Encoding", "StrataTool", "Server", "ObjectStoreS3",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
                .product(name: "Histogram", package: "hdrhistogram-swift", condition: .when(traits: ["Tools"])),
            ],
            path: "Benchmarks/StrataBench", swiftSettings: strictSettings),
        .executableTarget(
            name: "strata-stress",
            dependencies: [
                "Engine", "VFS", "Encoding",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
            ],
            path: "Benchmarks/Stress", exclude: ["crash_test.py"], swiftSettings: strictSettings),
        // The child process of the Tables crash test (Tests/TablesTests/TablesCrashTests.swift).
        .executableTarget(
            name: "strata-tables-stress", dependencies: ["Tables", "Engine", "VFS", "StrataTestSupport"],
            path: "Benchmarks/TablesStress", swiftSettings: strictSettings),

        // MARK: Test support and fuzzing
        // The checks every ObjectStore implementation must pass (run by ObjectStoreTests and
        // ObjectStoreS3Tests).
        .target(
            name: "ObjectStoreConformance", dependencies: ["ObjectStore", "VFS", "Encoding"],
            path: "Tests/ObjectStoreConformance", swiftSettings: strictSettings),
        .target(
            name: "StrataTestSupport", dependencies: ["VFS", "Encoding", "Engine", "Tables"],
            path: "Tests/StrataTestSupport", swiftSettings: strictSettings),
        .target(
            name: "StrataFuzzHarness", dependencies: ["StrataTool", "Manifest", "SSTable", "Memtable", "WAL", "VFS", "Encoding"],
            path: "Tests/Fuzz/Harness", swiftSettings: strictSettings),
        // `make fuzz` builds it with -DSTRATA_FUZZING and -sanitize=fuzzer,address; an ordinary
        // build replays inputs instead.
        // The cooperative-pool starvation probe DatabaseAsyncTests runs in a process of its own.
        .executableTarget(
            name: "strata-async-probe", dependencies: ["Engine", "Encoding"],
            path: "Tests/AsyncProbe", swiftSettings: strictSettings),
        .executableTarget(
            name: "strata-fuzz", dependencies: ["StrataFuzzHarness"],
            path: "Tests/Fuzz/StrataFuzz", swiftSettings: strictSettings),

        // MARK: Tests, one target per module
        .testTarget(
            name: "EncodingTests", dependencies: ["Encoding"], swiftSettings: strictSettings),
        .testTarget(
            name: "VFSTests", dependencies: ["VFS", "Encoding"], swiftSettings: strictSettings),
        .testTarget(
            name: "WALTests", dependencies: ["WAL", "VFS", "Encoding", "StrataTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "MemtableTests", dependencies: ["Memtable", "WAL", "VFS", "Encoding"], swiftSettings: strictSettings),
        .testTarget(
            name: "SSTableTests", dependencies: ["SSTable", "Memtable", "VFS", "Encoding", "StrataTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "ManifestTests", dependencies: ["Manifest", "SSTable", "Memtable", "WAL", "VFS", "Encoding", "StrataTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "CompactionTests", dependencies: ["Compaction", "Manifest", "SSTable", "Memtable", "VFS", "Encoding"], swiftSettings: strictSettings),
        .testTarget(
            name: "TablesTests", dependencies: ["Tables", "Engine", "Encoding", "VFS", "StrataTestSupport", "strata-tables-stress"], swiftSettings: strictSettings),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Strata", "Engine", "Manifest", "SSTable", "ObjectStore", "VFS", "Encoding", "StrataTestSupport", "strata-async-probe",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "ToolsTests", dependencies: ["StrataTool", "strata", "strata-bench", "Engine", "VFS", "Encoding", "StrataTestSupport", "Tables"], swiftSettings: strictSettings),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Strata", "Engine", "Tables", "VFS", "Encoding", "StrataTestSupport", "strata-server", "strata",
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["Server"])),
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["Server"])),
            ],
            exclude: ["python", "resp"], swiftSettings: strictSettings),
        .testTarget(
            name: "ObjectStoreTests", dependencies: ["ObjectStore", "ObjectStoreConformance", "VFS", "Encoding"], swiftSettings: strictSettings),
        .testTarget(
            name: "ObjectStoreS3Tests",
            dependencies: ["ObjectStoreS3", "ObjectStore", "ObjectStoreConformance", "Engine", "VFS", "Encoding", "StrataTestSupport", "strata"],
            exclude: ["python", "moto_atomic_server.py"], swiftSettings: strictSettings),
        .testTarget(
            name: "FuzzRegressionTests", dependencies: ["StrataFuzzHarness"], swiftSettings: strictSettings),
    ]
)

// `make docs` sets STRATA_DOCS=1 to add swift-docc-plugin; nobody else resolves it.
if Context.environment["STRATA_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
