// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "lsq",
    platforms: [.macOS(.v14)],
    products: [
        // MARK: - Public API
        .library(name: "SparseTensor", targets: ["SparseTensor"]),
        .library(name: "LeastSquares", targets: ["LeastSquares"]),
        .library(name: "SolverService", targets: ["SolverService"]),
        .executable(name: "lsq", targets: ["lsq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        // MARK: - Public API
        .target(
            name: "SparseTensor",
            dependencies: ["CSuiteSparse", "CFileGuard", "CSparseKernels", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict),
        .target(
            name: "LeastSquares",
            dependencies: ["SparseTensor", "CSuiteSparse", "CMemoryHints"],
            swiftSettings: strict),
        .target(
            name: "SolverService",
            dependencies: ["LeastSquares", "SparseTensor", .product(name: "FlyingSocks", package: "FlyingFox"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .executableTarget(
            name: "lsq",
            dependencies: ["LeastSquares", "SparseTensor", "SolverService",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),

        // MARK: - Implementation details
        .systemLibrary(name: "CSuiteSparse", path: "Sources/CSuiteSparse"),
        .target(name: "CFileGuard"),
        .target(name: "CMemoryHints"),
        .target(name: "CSparseKernels", dependencies: ["CMemoryHints"]),

        .target(name: "_TestSupport", dependencies: ["SparseTensor"], path: "Tests/_TestSupport", exclude: ["README.md"],
                swiftSettings: strict),

        // MARK: - Tests
        .testTarget(name: "SparseTensorTests", dependencies: ["SparseTensor", "_TestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "LeastSquaresTests", dependencies: ["LeastSquares", "SparseTensor", "_TestSupport"], swiftSettings: strict),
        .testTarget(name: "LsqCLITests", dependencies: ["LeastSquares", "SparseTensor", "_TestSupport"], swiftSettings: strict),
        .testTarget(name: "SolverServiceTests", dependencies: ["SolverService", "LeastSquares", "SparseTensor", "_TestSupport",
                                                              .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
    ]
)

// Benchmarks build only on request (scripts/bench-*), so `swift build` / `swift test` never compile them.
if Context.environment["LSQ_BENCHMARKS"] != nil {
    package.targets.append(.executableTarget(
        name: "LsqBench", dependencies: ["LeastSquares", "SparseTensor"], path: "Benchmarks/LsqBench", swiftSettings: strict))
}
