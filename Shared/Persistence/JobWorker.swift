import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// Fires due jobs exactly once across replicas.
///
/// A job is claimed with `FOR UPDATE SKIP LOCKED` and a lease (real time, not business
/// time). Its handler runs in one transaction with the job's deletion, and the deletion
/// requires the lease to still be this worker's, so the handler's effects commit at most
/// once; a crashed worker's jobs are claimed by another when the lease lapses, and a failed
/// handler's job is retried with back-off. Woken by NOTIFY and by the next due time, with
/// polling as the truth; jobs that fell due while nothing ran fire at start.
public final class JobWorker: Service, Sendable {
    public typealias Handler = @Sendable (ScheduledJob, PostgresConnection) async throws -> Void

    public struct Settings: Sendable {
        public var lease: Duration = .seconds(15)
        public var batchSize = 200
        public var concurrency = 8
        public var pollInterval: Duration = .seconds(1)
        public var maxRetryDelay: Duration = .seconds(600)
        public init() {}
    }

    struct LeaseLost: Error {}

    public let workerID: String
    private let database: PostgresClient
    private let handlers: [String: Handler]
    private let clock: any BusinessClock
    private let settings: Settings
    private let logger: Logger
    private let doorbell = Doorbell()
    /// Restarted by each turn of the loop that reached the database (fired what was due, or
    /// found nothing): readiness reads it, since a worker that cannot claim its jobs while
    /// `SELECT 1` answers would otherwise let escalations and reminders stop unseen.
    public let stallClock: StallClock
    /// Unix time of the last turn through, for an alert that does not ask for readiness.
    private let lastTurnGauge = Gauge(label: "aftercare_jobs_last_turn_seconds")

    public init(
        database: PostgresClient,
        handlers: [String: Handler],
        clock: any BusinessClock = SystemBusinessClock(),
        settings: Settings = .init(),
        workerID: String = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))",
        stallClock: StallClock = StallClock(),
        logger: Logger
    ) {
        self.stallClock = stallClock
        self.database = database
        self.handlers = handlers
        self.clock = clock
        self.settings = settings
        self.workerID = workerID
        self.logger = logger
    }

    /// Look now rather than at the next poll (tests call this after moving business time).
    public func wake() { doorbell.ring() }

    public func run() async throws {
        // Built before the migrations run, started after them: the patience counts from here.
        stallClock.restart()
        await runWokenByNotifications(channel: JobScheduler.notificationChannel, client: database, doorbell: doorbell, logger: logger) { [self] in
            await loop()
        }
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                let fired = try await fireDueJobs()
                stallClock.restart()
                lastTurnGauge.record(Date().timeIntervalSince1970)
                if fired == settings.batchSize { continue }
                await doorbell.wait(upTo: try await timeUntilNextDue())
            } catch {
                if Task.isCancelled { return }
                logger.warning("job worker could not reach the database, retrying", metadata: ["error": "\(ErrorText.describe(error))"])
                try? await Task.sleep(for: settings.pollInterval)
            }
        }
    }

    /// Claims and fires one batch of due jobs; returns how many were claimed.
    ///
    /// A job is started only while at least half of its lease is left. Slow handlers (a
    /// provider at its time-out) can make a batch outlast the lease, and another worker then
    /// claims the tail: its commit is refused here, but a handler's effect outside the
    /// database (a message sent) would have happened twice. The jobs not started in time are
    /// given back at once instead.
    @discardableResult
    public func fireDueJobs() async throws -> Int {
        // Measured from before the claim is sent: the lease cannot have started earlier.
        let startBy = ContinuousClock.now + settings.lease / 2
        let jobs = try await claim()
        guard !jobs.isEmpty else { return 0 }
        let unstarted = await withTaskGroup(of: Void.self) { group -> ArraySlice<ScheduledJob> in
            var running = 0
            for (index, job) in jobs.enumerated() {
                if running == settings.concurrency {
                    await group.next()
                    running -= 1
                }
                if ContinuousClock.now > startBy { return jobs[index...] }
                group.addTask { await self.fire(job) }
                running += 1
            }
            return []
        }
        if !unstarted.isEmpty { try await release(unstarted.map(\.id)) }
        return jobs.count
    }

    /// Gives claimed jobs back before their lease lapses, so that any worker can claim them now.
    private func release(_ ids: [Int64]) async throws {
        logger.notice("jobs not started within half their lease given back", metadata: ["count": "\(ids.count)"])
        try await database.rows(
            "UPDATE scheduled_jobs SET leased_by = NULL, lease_expires_at = NULL WHERE id = ANY(\(ids)) AND leased_by = \(workerID)",
            logger: logger
        )
    }

    private func claim() async throws -> [ScheduledJob] {
        let now = clock.now()
        let leaseSeconds = Double(settings.lease.components.seconds)
        let rows = try await database.rows(
            """
            UPDATE scheduled_jobs SET leased_by = \(workerID), lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
            WHERE id IN (
                SELECT id FROM scheduled_jobs
                WHERE due_at <= \(now) AND (lease_expires_at IS NULL OR lease_expires_at < now())
                ORDER BY due_at LIMIT \(settings.batchSize) FOR UPDATE SKIP LOCKED
            )
            RETURNING id, kind, unique_key, payload, due_at, attempts
            """,
            logger: logger
        )
        var jobs: [ScheduledJob] = []
        for row in rows {
            let (id, kind, key, payload, dueAt, attempts) = try row.decode((Int64, String, String?, String, Date, Int).self)
            jobs.append(ScheduledJob(id: id, kind: kind, uniqueKey: key, payload: payload, dueAt: dueAt, attempts: attempts))
        }
        return jobs.sorted { $0.dueAt < $1.dueAt }
    }

    private func fire(_ job: ScheduledJob) async {
        var logger = self.logger
        logger[metadataKey: "job_kind"] = .string(job.kind)
        logger[metadataKey: "job_id"] = .string(String(job.id))
        let lag = clock.now().timeIntervalSince(job.dueAt)
        do {
            guard let handler = handlers[job.kind] else { throw UnknownJobKind(kind: job.kind) }
            // A job's transaction may take its whole lease (a provider at its time-out), not more:
            // after that another worker owns the job.
            let workerID = self.workerID
            try await database.transaction(logger: logger, within: settings.lease) { [logger] connection in
                try await handler(job, connection)
                let deleted = try await connection.query(
                    "DELETE FROM scheduled_jobs WHERE id = \(job.id) AND leased_by = \(workerID) RETURNING 1",
                    logger: logger
                )
                var kept = false
                for try await _ in deleted { kept = true }
                guard kept else { throw LeaseLost() }
            }
            Timer(label: "aftercare_job_lag_seconds", dimensions: [("kind", job.kind)], preferredDisplayUnit: .seconds)
                .recordNanoseconds(Int64(min(max(0, lag), 1e9) * 1e9))  // a lag beyond 30 years is a data fault, not a number
            Counter(label: "aftercare_jobs_fired_total", dimensions: [("kind", job.kind)]).increment()
        } catch is LeaseLost {
            logger.warning("job lease lapsed before it finished; another worker owns it now")
        } catch {
            await reschedule(job, after: error, logger: logger)
        }
    }

    private func reschedule(_ job: ScheduledJob, after error: any Error, logger: Logger) async {
        Counter(label: "aftercare_jobs_failed_total", dimensions: [("kind", job.kind)]).increment()
        let delay = min(Double(settings.maxRetryDelay.components.seconds), pow(2, Double(min(job.attempts, 20))))
        let retryAt = clock.now().addingTimeInterval(delay)
        let reason = String(ErrorText.describe(error).prefix(500))
        logger.warning("job failed, will retry", metadata: ["attempt": "\(job.attempts + 1)", "retry_in_seconds": "\(delay)", "error": "\(reason)"])
        _ = try? await database.rows(
            """
            UPDATE scheduled_jobs SET attempts = attempts + 1, due_at = \(retryAt), leased_by = NULL, lease_expires_at = NULL, last_error = \(reason)
            WHERE id = \(job.id) AND leased_by = \(workerID)
            """,
            logger: logger
        )
    }

    /// How long to sleep: until the next job falls due (in real time, given that business time
    /// runs with it), at most the poll interval.
    private func timeUntilNextDue() async throws -> Duration {
        let rows = try await database.rows(
            "SELECT min(due_at) FROM scheduled_jobs WHERE lease_expires_at IS NULL OR lease_expires_at < now()",
            logger: logger
        )
        let next = try rows.first?.decode(Date?.self)
        guard let next = next ?? nil else { return settings.pollInterval }
        let seconds = next.timeIntervalSince(clock.now())
        if seconds <= 0 { return .milliseconds(20) }  // a lease lapsed just now: claim it on the next turn
        return min(settings.pollInterval, .milliseconds(Int64(seconds * 1000) + 1))
    }
}

public struct UnknownJobKind: Error, CustomStringConvertible {
    public let kind: String
    public var description: String { "no handler for job kind \(kind)" }
}
