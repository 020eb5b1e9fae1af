// swift-tools-version:6.2
import PackageDescription

/// One set of settings for every target: Swift 6 language mode with strict concurrency.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// The five services share one shape: an executable built on the shared runtime, with its
/// OpenAPI document beside its code.
func service(_ name: String, path: String, extra: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["AftercareRuntime", "AftercareMessaging", "AftercareContracts"] + extra,
        path: "Services/\(path)",
        resources: [.copy("openapi.json")],
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "Aftercare",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "MembershipService", targets: ["MembershipService"]),
        .executable(name: "DispatchService", targets: ["DispatchService"]),
        .executable(name: "CouponService", targets: ["CouponService"]),
        .executable(name: "NotificationService", targets: ["NotificationService"]),
        .executable(name: "FeedbackService", targets: ["FeedbackService"]),
        .executable(name: "aftercare-token", targets: ["AftercareToken"]),
        .executable(name: "aftercare-bench", targets: ["AftercareBench"]),
        .executable(name: "aftercare-demo", targets: ["AftercareDemo"]),
        .executable(name: "aftercare-chaos", targets: ["AftercareChaos"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // The C library stays behind one module: only AftercareAMQP imports it.
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Shared/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        // Waiting with a deadline, for the database and broker modules alike.
        .target(name: "AftercareDeadline", path: "Shared/Deadline", swiftSettings: swiftSettings),
        .target(
            name: "AftercareAMQP",
            dependencies: [
                "CRabbitMQ", "AftercareDeadline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/AMQP",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AftercarePersistence",
            dependencies: [
                "AftercareDeadline",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Persistence",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AftercareContracts",
            path: "Shared/Contracts",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AftercareMessaging",
            dependencies: [
                "AftercareAMQP", "AftercarePersistence", "AftercareContracts", "AftercareDeadline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Messaging",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AftercareRuntime",
            dependencies: [
                "AftercareAMQP", "AftercarePersistence", "AftercareMessaging", "AftercareContracts", "AftercareDeadline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Runtime",
            resources: [.copy("platform-openapi.json")],
            swiftSettings: swiftSettings
        ),
        service("MembershipService", path: "Membership"),
        service("DispatchService", path: "Dispatch"),
        service("CouponService", path: "Coupon"),
        // Reaches SMS gateways and the official-account API over HTTP.
        service("NotificationService", path: "Notification", extra: [.product(name: "AsyncHTTPClient", package: "async-http-client")]),
        service("FeedbackService", path: "Feedback"),
        .executableTarget(
            name: "AftercareToken",
            dependencies: [
                "AftercareRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/AftercareToken",
            swiftSettings: swiftSettings
        ),
        // A member's journey across the five services through their public APIs: the demo
        // walks it against the running suite, the suite's end-to-end test against its processes.
        .target(
            name: "AftercareJourney",
            dependencies: ["AftercareRuntime", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Tools/Journey",
            swiftSettings: swiftSettings
        ),
        // Counts, from every service's tables, the events lost or effects duplicated since a
        // moment: after the journey's test, and after a fault campaign.
        .target(
            name: "AftercareEffects",
            dependencies: ["AftercarePersistence", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tools/Effects",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AftercareDemo",
            dependencies: [
                "AftercareJourney", "AftercareRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tools/Demo",
            swiftSettings: swiftSettings
        ),
        // The fault campaign (scripts/run-chaos): journeys under kills and restarts of the
        // services, the broker and the database, then every effect counted. It starts the
        // executables as the suite's process tests do, so it builds on the test support.
        .executableTarget(
            name: "AftercareChaos",
            dependencies: [
                "AftercareJourney", "AftercareEffects", "AftercareTestSupport", "AftercareRuntime", "AftercareAMQP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tools/Chaos",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AftercareBench",
            dependencies: [
                "AftercareMessaging", "AftercarePersistence", "AftercareAMQP", "AftercareContracts", "AftercareRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/AftercareBench",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AftercareTestSupport",
            dependencies: [
                "AftercareRuntime", "AftercarePersistence", "AftercareAMQP", "AftercareMessaging", "AftercareContracts",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "AftercareRuntime", "AftercareTestSupport", "AftercareMessaging", "AftercareAMQP", "AftercarePersistence",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/RuntimeTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersistenceTests",
            dependencies: ["AftercarePersistence", "AftercareDeadline", "AftercareTestSupport"],
            path: "Tests/PersistenceTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AMQPTests",
            dependencies: ["AftercareAMQP", "AftercareTestSupport"],
            path: "Tests/AMQPTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MessagingTests",
            dependencies: ["AftercareMessaging", "AftercareTestSupport", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/MessagingTests",
            swiftSettings: swiftSettings
        ),
        // Restarts the test broker and database, raises the broker's memory alarm: run on its
        // own, one test at a time, so no other test sees the outage.
        .testTarget(
            name: "OutageTests",
            dependencies: [
                "AftercareMessaging", "AftercareTestSupport", "AftercareRuntime", "AftercarePersistence", "AftercareChaos",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/OutageTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FeedbackTests",
            dependencies: [
                "FeedbackService", "AftercareTestSupport", "AftercareRuntime", "AftercareMessaging", "AftercareContracts",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/FeedbackTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MembershipTests",
            dependencies: [
                "MembershipService", "AftercareTestSupport", "AftercareRuntime", "AftercareMessaging", "AftercareContracts", "AftercareAMQP",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/MembershipTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NotificationTests",
            dependencies: [
                "NotificationService", "AftercareTestSupport", "AftercareRuntime", "AftercareMessaging", "AftercareContracts", "AftercarePersistence",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/NotificationTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DispatchTests",
            dependencies: [
                "DispatchService", "AftercareTestSupport", "AftercareRuntime",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/DispatchTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponTests",
            dependencies: [
                "CouponService", "AftercareTestSupport", "AftercareRuntime",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/CouponTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SuiteTests",
            dependencies: [
                "AftercareTestSupport", "AftercareMessaging", "AftercareAMQP", "AftercareRuntime", "AftercareJourney", "AftercareEffects",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "MembershipService", "DispatchService", "CouponService",
                "NotificationService", "FeedbackService", "AftercareToken", "AftercareDemo",
            ],
            path: "Tests/SuiteTests",
            swiftSettings: swiftSettings
        ),
    ]
)
