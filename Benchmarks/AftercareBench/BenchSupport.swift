import AftercareAMQP
import AftercarePersistence
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
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
        String(format: "%.0f", Double(messagesPerSecond: count, elapsed))
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

/// Talking to a service process under benchmark over HTTP, and watching its memory.
extension Bench {
    /// Stops a service and waits for it to exit, so its database is dropped only after it
    /// let go (a database dropped under a stopping service keeps it retrying until its
    /// shutdown watchdog ends it, 30 s later).
    static func stop(_ process: Process) {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// Starts a service executable on `url` (the bench's database) and the test broker.
    static func startService(_ path: String, url: String, port: Int, secret: String, extra: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "DATABASE_URL": url + (url.contains("?") ? "&" : "?") + "sslmode=disable", "AMQP_URL": try environment("AFTERCARE_TEST_AMQP_URL"),
            "JWT_SECRET": secret, "HTTP_PORT": String(port), "LOG_LEVEL": "warning", "LOG_FORMAT": "json", "DATABASE_POOL_SIZE": "10",
        ].merging(extra) { _, new in new }
        try process.run()
        return process
    }

    static func waitUntilReady(_ http: HTTPClient, _ base: String) async throws {
        for _ in 0..<300 {
            if let status = try? await get(http, "\(base)/health/ready", token: nil), status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationErrorMessage("the service at \(base) did not become ready")
    }

    static func get(_ http: HTTPClient, _ url: String, token: String?) async throws -> UInt {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await http.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    static func post(_ http: HTTPClient, _ url: String, token: String, body: String) async throws -> UInt {
        try await postReading(http, url, token: token, body: body).status
    }

    static func postReading(_ http: HTTPClient, _ url: String, token: String, body: String) async throws -> (status: UInt, body: ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        return (response.status.code, try await response.body.collect(upTo: 1 << 20))
    }

    /// The p-th percentile of sorted durations, in milliseconds.
    static func percentile(_ sorted: [Duration], _ p: Int) -> String {
        guard !sorted.isEmpty else { return "n/a" }
        return milliseconds(sorted[min(sorted.count - 1, sorted.count * p / 100)])
    }

    static func residentKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.2f ms", Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)
    }
}

/// Waiting for what a service under benchmark does.
extension Bench {
    static func waitFor(_ what: String, timeout: Duration, _ done: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !done() {
            guard ContinuousClock.now < deadline else { throw ValidationErrorMessage("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func cleanUp(broker: AMQPSettings, topology: AMQPTopology) async throws {
        let cleaner = AMQPPublisher(settings: broker, name: "bench-cleanup", logger: Bench.logger)
        cleaner.start()
        for _ in 0..<50 where !cleaner.isConnected { try await Task.sleep(for: .milliseconds(100)) }
        for queue in topology.queues { try? await cleaner.deleteQueue(queue.name) }
        await cleaner.shutdown()
    }

    static func duration(_ seconds: TimeInterval) -> Duration {
        .nanoseconds(Int64(max(0, seconds) * 1e9))
    }
}

struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Double {
    /// Messages (or events) per second over `elapsed`.
    init(messagesPerSecond count: Int, _ elapsed: Duration) {
        self = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
