import AftercarePersistence
import ArgumentParser
import Foundation
import PostgresNIO
import Synchronization

/// Timer firing lag (due time → handler start) while many jobs are pending, and how many
/// jobs per second a worker fires when a backlog is due at once.
struct TimerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "timers", abstract: "Timer firing lag and jobs fired per second.")

    @Option(help: "Jobs pending in the table (due far in the future).") var pending = 100_000
    @Option(help: "Jobs falling due during the lag measurement.") var due = 3_000
    @Option(help: "Seconds over which those jobs fall due.") var spreadSeconds = 15
    @Option(help: "Jobs due at once for the throughput measurement.") var backlog = 20_000

    func run() async throws {
        try await Bench.withDatabase { client in
            try await MigrationRunner(migrations: [JobScheduler.migration], logger: Bench.logger).run(on: client)
            try await client.query(
                """
                INSERT INTO scheduled_jobs (kind, unique_key, due_at)
                SELECT 'reminder', 'pending-' || i, now() + interval '30 days' + i * interval '1 second'
                FROM generate_series(1, \(pending)) AS i
                """,
                logger: Bench.logger
            )
            let (p50, p99, maxLag) = try await lag(client)
            let rate = try await throughput(client)
            Bench.printTable(
                "Timers (\(pending) jobs pending)",
                [
                    ("firing lag p50 (\(due) jobs over \(spreadSeconds) s)", p50),
                    ("firing lag p99", p99),
                    ("firing lag max", maxLag),
                    ("jobs fired per second (\(backlog) due at once)", rate),
                ]
            )
        }
    }

    func lag(_ client: PostgresClient) async throws -> (String, String, String) {
        let milliseconds = Double(spreadSeconds * 1000) / Double(due)
        try await client.query(
            """
            INSERT INTO scheduled_jobs (kind, unique_key, due_at)
            SELECT 'measure', 'due-' || i, now() + interval '1 second' + i * make_interval(secs => \(milliseconds / 1000))
            FROM generate_series(1, \(due)) AS i
            """,
            logger: Bench.logger
        )
        let lags = Mutex<[Double]>([])
        let worker = JobWorker(
            database: client,
            handlers: [
                "measure": { job, _ in
                    let lag = Date().timeIntervalSince(job.dueAt)
                    lags.withLock { $0.append(lag) }
                }
            ],
            logger: Bench.logger
        )
        _ = try await Bench.measure([worker]) { lags.withLock { $0.count } >= due }
        let sorted = lags.withLock { $0 }.sorted()
        func percentile(_ p: Double) -> String {
            String(format: "%.0f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000)
        }
        return (percentile(0.5), percentile(0.99), String(format: "%.0f ms", (sorted.last ?? 0) * 1000))
    }

    func throughput(_ client: PostgresClient) async throws -> String {
        try await client.query(
            """
            INSERT INTO scheduled_jobs (kind, unique_key, due_at)
            SELECT 'burst', 'burst-' || i, now() - interval '1 second' FROM generate_series(1, \(backlog)) AS i
            """,
            logger: Bench.logger
        )
        let fired = Atomic<Int>(0)
        let worker = JobWorker(database: client, handlers: ["burst": { _, _ in fired.add(1, ordering: .relaxed) }], logger: Bench.logger)
        let elapsed = try await Bench.measure([worker]) { fired.load(ordering: .relaxed) >= backlog }
        return Bench.perSecond(backlog, elapsed)
    }
}
