// swift-tools-version:6.0
import PackageDescription

/// Built-in connectors: one folder under Sources/Connectors each, one line here.
let connectors: [(name: String, dependencies: [Target.Dependency])] = [
    ("Core", []),
    ("Database", []),
    ("HTTP", []),
    ("OpenAI", []),
    ("Prodamus", []),
    ("Telegram", []),
    ("Web", [.product(name: "Mustache", package: "swift-mustache")]),
    ("Zoom", []),
]

let package = Package(
    name: "session-hub",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hub", targets: ["HubCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(name: "Flows", dependencies: [
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            "COpenSSL",
            "CCurl",
        ]),
    ] + connectors.map { connector in
        .target(name: "\(connector.name)Connector",
                dependencies: ["Flows", .product(name: "Logging", package: "swift-log")] + connector.dependencies,
                path: "Sources/Connectors/\(connector.name)")
    } + [
        .target(name: "Hub", dependencies: [
            "Flows", "CSQLite3", "CLibPQ", "COpenSSL",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Mustache", package: "swift-mustache"),
        ] + connectors.map { .target(name: "\($0.name)Connector") }),
        // Local emulators of the SaaS APIs (their real HTTP protocols), for tests and the sandbox.
        .target(name: "Emulators", dependencies: [
            "Flows",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "HubCommand", dependencies: [
            "Hub", "Flows", "Emulators",
            "ProdamusConnector",  // hub bench signs webhooks with the connector's own code
            .product(name: "Hummingbird", package: "hummingbird"),  // hub bench's bare route
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "FlowsTests", dependencies: ["Flows"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ProdamusConnectorTests", dependencies: ["ProdamusConnector", "Flows", "Hub", "Emulators"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DatabaseConnectorTests", dependencies: ["DatabaseConnector", "Flows", "Hub"]),
        .testTarget(name: "TelegramConnectorTests", dependencies: ["TelegramConnector", "Flows", "Hub", "Emulators"]),
        .testTarget(name: "WebConnectorTests", dependencies: ["WebConnector", "Flows"]),
        .testTarget(name: "ZoomConnectorTests", dependencies: ["ZoomConnector", "Flows", "Hub", "Emulators"]),
        .testTarget(name: "OpenAIConnectorTests", dependencies: ["OpenAIConnector", "Flows", "Hub", "Emulators"]),
        .testTarget(name: "HubTests", dependencies: [
            "Hub", "Flows", "Emulators", "HubCommand", "ProdamusConnector",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ]
)
