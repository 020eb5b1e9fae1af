import AftercarePersistence
import AftercareTestSupport
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing

/// A database with the jobs table and a `fired` table the handlers write their effects to;
/// a duplicate firing would show as a second row for the same key.
func withJobDatabase(connections: Int = 4, _ body: @escaping @Sendable (PostgresClient) async throws -> Void) async throws {
    try await TestDatabase.with { database in
        try await withRunningClient(try makeClient(url: database.url, maximumConnections: connections)) { client in
            try await MigrationRunner(
                migrations: [
                    JobScheduler.migration,
                    Migration("test-fired", "CREATE TABLE fired (job_key text NOT NULL, worker text NOT NULL, business_now timestamptz NOT NULL)"),
                ],
                logger: TestEnvironment.logger
            ).run(on: client)
            try await body(client)
        }
    }
}

/// A handler that records its firing in `fired`, in the job's transaction.
func recordFiring(worker: String, clock: any BusinessClock) -> JobWorker.Handler {
    { job, connection in
        try await connection.query(
            "INSERT INTO fired (job_key, worker, business_now) VALUES (\(job.uniqueKey ?? String(job.id)), \(worker), \(clock.now()))",
            logger: TestEnvironment.logger
        )
    }
}

func schedule(_ client: PostgresClient, count: Int, dueAt: Date, prefix: String = "job") async throws {
    try await client.withTransaction(logger: TestEnvironment.logger) { connection in
        for index in 0..<count {
            try await JobScheduler.schedule(
                kind: "remind",
                dueAt: dueAt,
                uniqueKey: "\(prefix)-\(index)",
                on: connection,
                logger: TestEnvironment.logger
            )
        }
    }
}

func firings(_ client: PostgresClient) async throws -> [String: Int] {
    var counts: [String: Int] = [:]
    for try await key in try await client.query("SELECT job_key FROM fired", logger: TestEnvironment.logger).decode(String.self) {
        counts[key, default: 0] += 1
    }
    return counts
}

func pendingJobs(_ client: PostgresClient) async throws -> Int {
    try await client.query("SELECT count(*) FROM scheduled_jobs", logger: TestEnvironment.logger).collect().first?.decode(Int.self) ?? -1
}

@Suite("Durable timers on a real PostgreSQL", .timeLimit(.minutes(3)))
struct JobWorkerTests {
    let logger = TestEnvironment.logger

    @Test("a job exists only if its transaction committed; a unique key schedules once; cancel removes it")
    func transactional() async throws {
        try await withJobDatabase { client in
            let due = Date().addingTimeInterval(300)
            struct Rollback: Error {}
            await #expect(throws: (any Error).self) {
                try await client.withTransaction(logger: logger) { connection in
                    try await JobScheduler.schedule(kind: "escalate", dueAt: due, uniqueKey: "callback-1", on: connection, logger: logger)
                    throw Rollback()
                }
            }
            #expect(try await pendingJobs(client) == 0)
            let first = try await client.withConnection {
                try await JobScheduler.schedule(kind: "escalate", dueAt: due, uniqueKey: "callback-1", on: $0, logger: logger)
            }
            let again = try await client.withConnection {
                try await JobScheduler.schedule(kind: "escalate", dueAt: due, uniqueKey: "callback-1", on: $0, logger: logger)
            }
            #expect(first && !again)
            #expect(try await pendingJobs(client) == 1)
            #expect(try await client.withConnection { try await JobScheduler.cancel(uniqueKey: "callback-1", on: $0, logger: logger) })
            #expect(try await pendingJobs(client) == 0)
        }
    }

    @Test("a job fires when business time reaches its due time, not before")
    func businessTime() async throws {
        try await withJobDatabase { client in
            let clock = ManualBusinessClock(Date(timeIntervalSince1970: 1_800_000_000))
            try await schedule(client, count: 1, dueAt: clock.now().addingTimeInterval(300))
            let worker = JobWorker(database: client, handlers: ["remind": recordFiring(worker: "w", clock: clock)], clock: clock, logger: logger)
            let fired = try await running(
                [worker],
                until: {
                    if try await firings(client).isEmpty {
                        // Not due for five business minutes: let some real time pass first.
                        try await Task.sleep(for: .milliseconds(500))
                        if try await firings(client).isEmpty && clock.now() < Date(timeIntervalSince1970: 1_800_000_300) {
                            clock.advance(by: 300)
                            worker.wake()
                        }
                        return false
                    }
                    return true
                }
            )
            #expect(fired)
            let row = try await client.query("SELECT business_now FROM fired", logger: logger).collect().first?.decode(Date.self)
            #expect(row == Date(timeIntervalSince1970: 1_800_000_300))
            #expect(try await pendingJobs(client) == 0)
        }
    }

    @Test("two workers on one table fire every job exactly once")
    func twoWorkers() async throws {
        // Each worker keeps a connection for LISTEN; the rest carry the 2 × 8 firings.
        try await withJobDatabase(connections: 10) { client in
            try await schedule(client, count: 400, dueAt: Date().addingTimeInterval(-1))
            let clock = SystemBusinessClock()
            var settings = JobWorker.Settings()
            settings.batchSize = 50  // several claims each, so the two workers interleave
            let a = JobWorker(database: client, handlers: ["remind": recordFiring(worker: "a", clock: clock)], settings: settings, logger: logger)
            let b = JobWorker(database: client, handlers: ["remind": recordFiring(worker: "b", clock: clock)], settings: settings, logger: logger)
            #expect(try await running([a, b], until: { try await pendingJobs(client) == 0 }))
            let counts = try await firings(client)
            #expect(counts.count == 400)
            #expect(counts.values.allSatisfy { $0 == 1 })
            let workers = try await client.query("SELECT DISTINCT worker FROM fired", logger: logger).collect().count
            #expect(workers >= 1)
        }
    }

    @Test("a batch that outlasts its lease gives back the jobs it has not started, so no handler runs twice")
    func batchOutlastsLease() async throws {
        try await withJobDatabase(connections: 8) { client in
            try await schedule(client, count: 30, dueAt: Date().addingTimeInterval(-1), prefix: "slow")
            // Handlers that take 0.5 s one at a time: a batch of 30 needs 15 s, its lease is
            // 8 s. (A handler that itself outlasts half the lease can still run twice; the
            // margin is wide so that a loaded machine does not get there.)
            var settings = JobWorker.Settings()
            settings.lease = .seconds(8)
            settings.batchSize = 30
            settings.concurrency = 1
            let started = Mutex([String: Int]())
            let clock = SystemBusinessClock()
            func slowHandler(_ worker: String) -> JobWorker.Handler {
                { job, connection in
                    // Counted before the transaction: like a message sent to a provider, it is
                    // not undone when the job's commit is refused.
                    started.withLock { $0[job.uniqueKey ?? "", default: 0] += 1 }
                    try await Task.sleep(for: .milliseconds(500))
                    try await recordFiring(worker: worker, clock: clock)(job, connection)
                }
            }
            // The first worker claims the whole batch before the second one starts.
            let a = JobWorker(database: client, handlers: ["remind": slowHandler("a")], settings: settings, logger: logger)
            let firstBatch = Task { try await a.fireDueJobs() }
            #expect(await eventually { !started.withLock { $0.isEmpty } })
            let b = JobWorker(database: client, handlers: ["remind": slowHandler("b")], settings: settings, logger: logger)
            #expect(try await running([b], until: { try await pendingJobs(client) == 0 }))
            #expect(try await firstBatch.value == 30)
            let handled = started.withLock { $0 }
            #expect(handled.count == 30)
            #expect(handled.filter { $0.value != 1 }.isEmpty, "handlers run more than once: \(handled.filter { $0.value != 1 })")
            #expect(try await firings(client).count == 30)
        }
    }

    @Test("jobs that fell due while nothing ran fire at start")
    func overdueAtStart() async throws {
        try await withJobDatabase { client in
            try await schedule(client, count: 25, dueAt: Date().addingTimeInterval(-3600))
            let worker = JobWorker(database: client, handlers: ["remind": recordFiring(worker: "late", clock: SystemBusinessClock())], logger: logger)
            // No time limit beyond the helper's: how fast timers fire is the benchmark's
            // question (scripts/run-bench timers), and a loaded test run must not fail it.
            #expect(try await running([worker], until: { try await firings(client).count == 25 }))
        }
    }

    @Test("a hung worker's job fires elsewhere once its lease lapses, and the hung worker's late commit is refused")
    func leaseRescue() async throws {
        try await withJobDatabase { client in
            try await schedule(client, count: 1, dueAt: Date().addingTimeInterval(-1), prefix: "stuck")
            let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
            let entered = Mutex(false)
            var short = JobWorker.Settings()
            // Short, but not so short that a loaded machine lets half of it pass between the
            // claim and the start (a worker starts a job only while half its lease is left).
            short.lease = .seconds(6)
            let hung = JobWorker(
                database: client,
                handlers: [
                    "remind": { job, connection in
                        try await recordFiring(worker: "hung", clock: SystemBusinessClock())(job, connection)
                        entered.withLock { $0 = true }
                        await withCheckedContinuation { continuation in release.withLock { $0 = continuation } }
                    }
                ],
                settings: short,
                logger: logger
            )
            let hungFiring = Task { try await hung.fireDueJobs() }
            #expect(await eventually { entered.withLock { $0 } })

            let rescuer = JobWorker(
                database: client,
                handlers: ["remind": recordFiring(worker: "rescuer", clock: SystemBusinessClock())],
                settings: short,
                logger: logger
            )
            let started = ContinuousClock.now
            #expect(try await running([rescuer], until: { try await firings(client)["stuck-0"] == 1 }, timeout: .seconds(20)))
            #expect(ContinuousClock.now - started >= .seconds(2), "fired before the lease could have lapsed")

            // The hung worker wakes up: its deletion finds the job gone, so its effects roll back.
            release.withLock { $0?.resume() }
            _ = try await hungFiring.value
            let rows = try await client.query("SELECT worker FROM fired", logger: logger).collect().map { try $0.decode(String.self) }
            #expect(rows == ["rescuer"])
            #expect(try await pendingJobs(client) == 0)
        }
    }

    @Test("a failing job is retried with back-off and keeps its error")
    func retries() async throws {
        try await withJobDatabase { client in
            let clock = ManualBusinessClock()
            try await schedule(client, count: 1, dueAt: clock.now().addingTimeInterval(-1), prefix: "flaky")
            let failures = Mutex(0)
            struct GatewayDown: Error {}
            let worker = JobWorker(
                database: client,
                handlers: [
                    "remind": { job, connection in
                        if failures.withLock({
                            $0 += 1
                            return $0
                        }) == 1 {
                            throw GatewayDown()
                        }
                        try await recordFiring(worker: "w", clock: clock)(job, connection)
                    }
                ],
                clock: clock,
                logger: logger
            )
            #expect(try await worker.fireDueJobs() == 1)
            let row = try await client.query("SELECT attempts, last_error, due_at FROM scheduled_jobs", logger: logger).collect().first
            let (attempts, error, due) = try #require(row).decode((Int, String?, Date).self)
            #expect(attempts == 1)
            #expect(error?.contains("GatewayDown") == true)
            #expect(due > clock.now())
            #expect(try await worker.fireDueJobs() == 0)  // not due yet in business time
            clock.advance(by: 3600)
            #expect(try await worker.fireDueJobs() == 1)
            #expect(try await firings(client) == ["flaky-0": 1])
        }
    }
}
