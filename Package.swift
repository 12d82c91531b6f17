// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// `scripts/fuzz` sets JIEBANG_FUZZ=1 (with its own build path): the parsers' modules are then built with
/// libFuzzer's coverage instrumentation and the fuzz target links libFuzzer. Never set for other builds.
let fuzzing = Context.environment["JIEBANG_FUZZ"] == "1"
let fuzzSettings: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"]), .define("FUZZING")] : []

let package = Package(
    name: "jiebang",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jiebang", targets: ["jiebang"]),
        .library(name: "ReviewSolver", targets: ["ReviewSolver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CXLSXWriter",
            pkgConfig: "xlsxwriter",
            providers: [.apt(["libxlsxwriter-dev"])]
        ),
        .target(
            name: "StreamingJSON",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "StreamingJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobQueue",
            dependencies: [
                "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings + fuzzSettings
        ),
        .target(
            name: "SMTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "EmbedSQL",
            path: "Plugins/EmbedSQLTool",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["EmbedSQL"]
        ),
        .target(
            name: "Jiebang",
            dependencies: [
                "Postgres",
                "CXLSXWriter",
                "JobQueue",
                "ReviewSolver",
                "SMTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            resources: [
                .embedInCode("Notifications/Templates/application_deadline.t7.txt"),
                .embedInCode("Notifications/Templates/application_deadline.t1.txt"),
                .embedInCode("Notifications/Templates/bid.returned.txt"),
                .embedInCode("Notifications/Templates/demand.refresh_due.txt"),
                .embedInCode("Notifications/Templates/demand.lapsed.txt"),
                .embedInCode("Notifications/Templates/bid.invited.txt"),
                .embedInCode("Notifications/Templates/review.assigned.txt"),
                .embedInCode("Notifications/Templates/review.due.t3.txt"),
                .embedInCode("Notifications/Templates/review.due.t1.txt"),
                .embedInCode("Notifications/Templates/review.overdue.txt"),
                .embedInCode("Notifications/Templates/progress_report.due.txt"),
                .embedInCode("Notifications/Templates/progress_report.overdue.txt"),
                .embedInCode("Notifications/Templates/acceptance.assigned.txt"),
                .embedInCode("Notifications/Templates/acceptance.overdue.txt"),
                .embedInCode("Notifications/Templates/milestone.due.txt"),
                .embedInCode("Notifications/Templates/milestone.overdue.txt"),
                .embedInCode("Notifications/Templates/recommendation.due.txt"),
                .embedInCode("Email/email_footer.txt"),
            ],
            swiftSettings: swiftSettings + fuzzSettings,
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "JiebangHTTP",
            dependencies: [
                "Jiebang",
                "JobQueue",
                "StreamingJSON",
                "Postgres",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            resources: [
                .embedInCode("OpenAPI/openapi.yaml"),
                .embedInCode("Pages/Templates/layout.mustache"),
                .embedInCode("Pages/Templates/board.mustache"),
                .embedInCode("Pages/Templates/board-entry.mustache"),
                .embedInCode("Pages/Templates/challenge.mustache"),
                .embedInCode("Pages/Templates/programme.mustache"),
                .embedInCode("Pages/Templates/programmes.mustache"),
                .embedInCode("Pages/Templates/error.mustache"),
                .embedInCode("Pages/Templates/sign-in.mustache"),
                .embedInCode("Pages/Templates/expert.mustache"),
                .embedInCode("Pages/Templates/assignment.mustache"),
                .embedInCode("Pages/Templates/jobs.mustache"),
                .embedInCode("Pages/Templates/job.mustache"),
                .embedInCode("Pages/Templates/bureau.mustache"),
                .embedInCode("Pages/Templates/dashboard.mustache"),
                .embedInCode("Pages/Templates/chart.mustache"),
                .embedInCode("Pages/Templates/municipal.mustache"),
                .embedInCode("Pages/Templates/unit.mustache"),
                .embedInCode("Pages/Templates/bid.mustache"),
                .embedInCode("Pages/Templates/inbox.mustache"),
                .embedInCode("Pages/Static/site.css"),
            ],
            swiftSettings: swiftSettings + fuzzSettings
        ),
        .target(
            name: "Workers",
            dependencies: ["Jiebang", "JobQueue", "Postgres", "SMTP"],
            path: "Workers",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "jiebang",
            dependencies: [
                "Workers",
                "JiebangHTTP",
                "Jiebang",
                "JobQueue",
                "Postgres",
                "SMTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The parsers' fuzz targets: replays its seeds when built as usual; `scripts/fuzz` builds it with
        // -sanitize=fuzzer -DFUZZING and runs each target under libFuzzer for a bounded time.
        .executableTarget(
            name: "JiebangFuzz",
            dependencies: ["Jiebang", "JiebangHTTP", "JobQueue"],
            path: "Fuzz",
            swiftSettings: swiftSettings + fuzzSettings,
            linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer", "-use-ld=lld"])] : []
        ),
        .executableTarget(
            name: "PostgresBenchmark",
            dependencies: ["Postgres"],
            path: "Benchmarks/PostgresBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QueueBenchmark",
            dependencies: [
                "JobQueue", "Postgres", "Jiebang",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/QueueBenchmark",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReviewSolver",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReviewBenchmark",
            dependencies: ["ReviewSolver"],
            path: "Benchmarks/ReviewBenchmark",
            exclude: ["run", "setup-venv", "ortools_reference.py"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JiebangTesting",
            dependencies: ["Postgres", "Jiebang"],
            path: "Tests/JiebangTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "JiebangTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobQueueTests",
            dependencies: [
                "JobQueue", "JiebangTesting", "Postgres",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JiebangTests",
            dependencies: ["Jiebang", "Postgres", "JiebangTesting"],
            // The migrations as they were before SQL/definitions, read by SchemaLayoutTests.
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SMTPTests",
            dependencies: ["SMTP", "JiebangTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReviewSolverTests",
            dependencies: ["ReviewSolver"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JiebangHTTPTests",
            dependencies: [
                "JiebangHTTP", "JiebangTesting", "Postgres", "StreamingJSON",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                "Workers", "SMTP", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
