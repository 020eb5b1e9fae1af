import AftercarePersistence
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

enum Bench {
    static let logger: Logger = {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        return logger
    }()

    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw ValidationErrorMessage("\(name) is not set: run through scripts/run-bench")
        }
        return value
    }

    /// A fresh database for one run, dropped afterwards.
    static func withDatabase<T: Sendable>(_ body: (PostgresClient) async throws -> T) async throws -> T {
        try await withDatabaseURL { client, _ in try await body(client) }
    }

    /// As `withDatabase`, also giving the database's URL (for a service process to use).
    static func withDatabaseURL<T: Sendable>(_ body: (PostgresClient, String) async throws -> T) async throws -> T {
        let adminURL = try environment("AFTERCARE_TEST_DATABASE_URL")
        let name = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try await withClient(adminURL) { admin in
            _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var components = URLComponents(string: adminURL)
        components?.path = "/\(name)"
        let result: Result<T, any Error>
        do {
            let url = components?.string ?? adminURL
            result = .success(try await withClient(url, poolSize: 20) { try await body($0, url) })
        } catch {
            result = .failure(error)
        }
        try await withClient(adminURL) { admin in
            _ = try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
        return try result.get()
    }

    static func withClient<T: Sendable>(_ url: String, poolSize: Int = 2, _ body: (PostgresClient) async throws -> T) async throws -> T {
        var configuration = try DatabaseURL.configuration(from: url, maximumConnections: poolSize)
        configuration.tls = .disable
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    static func count(_ client: PostgresClient, _ sql: String) async throws -> Int {
        try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().first?.decode(Int.self) ?? 0
    }

    /// Runs services until `done` holds, polling every 20 ms; returns the elapsed time.
    static func measure(_ services: [any Service], until done: @escaping @Sendable () async throws -> Bool) async throws -> Duration {
        let group = ServiceGroup(services: services, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            let start = ContinuousClock.now
            tasks.addTask { try await group.run() }
            while try await !done() { try await Task.sleep(for: .milliseconds(20)) }
            let elapsed = ContinuousClock.now - start
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return elapsed
        }
    }

    static func perSecond(_ count: Int, _ elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return String(format: "%.0f", Double(count) / seconds)
    }

    static func seconds(_ elapsed: Duration) -> String {
        String(format: "%.2f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func printTable(_ title: String, _ rows: [(String, String)]) {
        let width = max(rows.map(\.0.count).max() ?? 0, 10)
        print("\n\(title)")
        print(String(repeating: "-", count: width + 22))
        for (name, value) in rows { print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
    }
}

struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
