// swift-tools-version: 6.2
//
// `make bench-tables`: Strata's Tables against SQLite through GRDB.swift on the same records.
// A package of its own, so the main package (and CI) never resolves or builds GRDB.

import PackageDescription

let package = Package(
    name: "TablesBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Strata", path: "../..", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "TablesBench",
            dependencies: [
                .product(name: "Tables", package: "Strata"),
                .product(name: "Strata", package: "Strata"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .treatAllWarnings(as: .error)]),
    ]
)
