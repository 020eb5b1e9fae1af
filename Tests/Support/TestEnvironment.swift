import AftercareAMQP
import AftercarePersistence
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Where the test PostgreSQL and RabbitMQ are. `scripts/run-tests` starts them and exports
/// these variables; running `swift test` without it fails with a message saying so.
public enum TestEnvironment {
    public struct Missing: Error, CustomStringConvertible {
        let variable: String
        public var description: String { "\(variable) is not set: run the tests with scripts/run-tests, which starts PostgreSQL and RabbitMQ" }
    }

    public static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(variable: name) }
        return value
    }

    public static func adminDatabaseURL() throws -> String { try variable("AFTERCARE_TEST_DATABASE_URL") }
    public static func amqpURL() throws -> String { try variable("AFTERCARE_TEST_AMQP_URL") }

    /// How much longer than on an idle machine a background wait may take before a test
    /// gives up (`eventually`, and the waits built on it): 3, or AFTERCARE_TEST_PATIENCE.
    /// The whole suite starts about 150 tests at once on two cores, and then work that takes
    /// 4 s alone has taken 50 s; a tight wait there fails a correct run. Only a failing run
    /// waits the longer time.
    public static let patience: Double = {
        guard let text = ProcessInfo.processInfo.environment["AFTERCARE_TEST_PATIENCE"], let value = Double(text), value >= 1 else { return 3 }
        return value
    }()

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()

    /// A 48-character secret made per run: tests never need a fixed one.
    public static let jwtSecret = (0..<3).map { _ in UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }.joined().prefix(48)
        .description

    /// A service configuration pointing at the test infrastructure and the given database.
    public static func configuration(
        service: ServiceIdentity = .membership,
        databaseURL: String,
        extra: [String: String] = [:]
    ) throws -> ServiceConfiguration {
        var environment = [
            "DATABASE_URL": databaseURL,
            "AMQP_URL": try amqpURL(),
            "JWT_SECRET": jwtSecret,
            "HTTP_PORT": "0",
            "LOG_LEVEL": "warning",
            // Many applications run at once in the test process: small pools keep the test
            // PostgreSQL well inside its connection limit.
            "DATABASE_POOL_SIZE": "4",
            // The whole suite runs some 150 tests at once on two cores: a transaction that
            // takes milliseconds alone has taken seconds there.
            "DATABASE_TIMEOUT_SECONDS": "30",
        ]
        environment.merge(extra) { $1 }
        // Port 0 is not a valid configured port; tests get a free one from the live test client.
        if environment["HTTP_PORT"] == "0" { environment["HTTP_PORT"] = nil }
        return try ServiceConfiguration(service: service, environment: environment)
    }
}

/// A throw-away database for one test, created from the admin connection and dropped after.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String

    /// Creates the database, runs `body` with it and drops it afterwards (also on failure).
    public static func with<T: Sendable>(_ body: (TestDatabase) async throws -> T) async throws -> T {
        TestEnvironment.startStallReporter()
        let adminURL = try TestEnvironment.adminDatabaseURL()
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin(adminURL) { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestEnvironment.logger)
        }
        guard var components = URLComponents(string: adminURL) else { throw TestEnvironment.Missing(variable: "AFTERCARE_TEST_DATABASE_URL") }
        components.path = "/\(name)"
        let database = TestDatabase(name: name, url: components.string ?? adminURL)
        do {
            let result = try await body(database)
            try await drop(name, adminURL: adminURL)
            return result
        } catch {
            try? await drop(name, adminURL: adminURL)
            throw error
        }
    }

    /// Tried three times: a drop can meet a backend it may not end at that moment (before
    /// `pg_signal_backend` was granted, an autovacuum worker made one CI run fail here).
    private static func drop(_ name: String, adminURL: String) async throws {
        for attempt in 1...3 {
            do {
                return try await admin(adminURL) { client in
                    _ = try await client.query(
                        PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                        logger: TestEnvironment.logger
                    )
                }
            } catch  where attempt < 3 {
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    static func admin(_ url: String, _ body: (PostgresClient) async throws -> Void) async throws {
        try await withRunningClient(try makeClient(url: url)) { try await body($0) }
    }
}

/// Runs a PostgresClient for the duration of `body`, then cancels it.
///
/// Under the full suite's load, a cancelled client's `run()` was seen never to return (two
/// hung runs, with no connection left open and every thread idle). Waiting for it in a task
/// group then held the test for ever, so the wait is bounded: after 10 s the client is left
/// to finish on its own and the test goes on. Services are not affected by this helper.
public func withRunningClient<T: Sendable>(_ client: PostgresClient, _ body: (PostgresClient) async throws -> T) async throws -> T {
    let running = Task { await client.run() }
    let result: Result<T, any Error>
    do {
        result = .success(try await body(client))
    } catch {
        result = .failure(error)
    }
    running.cancel()
    if !(await finishes(running, within: .seconds(10))) {
        TestEnvironment.logger.warning("a cancelled PostgresClient did not stop within 10 s; leaving it behind")
    }
    return try result.get()
}

/// One connection of its own (outside any pool) to the database at `url`.
public func makeConnection(url: String) async throws -> PostgresConnection {
    guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
        throw TestEnvironment.Missing(variable: "a database URL with host and user")
    }
    let configuration = PostgresConnection.Configuration(
        host: host,
        port: components.port ?? 5432,
        username: user.removingPercentEncoding ?? user,
        password: components.password?.removingPercentEncoding,
        database: String(components.path.dropFirst()),
        tls: .disable
    )
    return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: TestEnvironment.logger)
}

/// A client for a test database with the given URL. `idleInTransaction` ends (on the
/// server) a transaction left idle that long, as the services' own setting does.
public func makeClient(url: String, maximumConnections: Int = 4, idleInTransaction: Duration? = nil) throws -> PostgresClient {
    var configuration = try DatabaseURL.configuration(from: url, maximumConnections: maximumConnections)
    if let idleInTransaction {
        configuration.options.additionalStartupParameters.append(("idle_in_transaction_session_timeout", "\(idleInTransaction.components.seconds)s"))
    }
    configuration.tls = .disable
    return PostgresClient(configuration: configuration, backgroundLogger: TestEnvironment.logger)
}
