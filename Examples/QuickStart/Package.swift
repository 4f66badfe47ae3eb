// swift-tools-version: 6.2
//
// A package that uses Strata exactly as README.md shows: `make test` checks that the README's
// code is this package's code (Examples/check_readme.py), builds it, runs it, and checks that
// resolving it fetched only what the library needs (no tools' dependencies).

import PackageDescription

let package = Package(
    name: "QuickStart",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `traits: []` leaves out the command-line tools and what only they need.
        .package(name: "Strata", path: "../..", traits: []),
    ],
    targets: [
        .executableTarget(
            name: "QuickStart",
            dependencies: [.product(name: "Strata", package: "Strata")],
            swiftSettings: [.swiftLanguageMode(.v6), .treatAllWarnings(as: .error)]),
    ]
)
