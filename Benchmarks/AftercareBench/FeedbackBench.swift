import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercareRuntime
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The complaint promise under load, against the real `FeedbackService` executable on a fresh
/// database and the test broker, with a consumer of its events standing in for notification:
/// - complaints opened per second over HTTP, and the time from each request to its
///   `feedback.callback.created` event on the broker (p50/p99);
/// - with `openTasks` open callback tasks whose deadlines fall due over `spread` seconds,
///   the lag from each deadline to its `feedback.callback.escalated` event (p50/p99/max).
struct FeedbackBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback",
        abstract: "Complaints/s, request → callback-created p99, escalation lag with 10,000 open tasks."
    )

    @Option(help: "Complaints to open over HTTP.") var complaints = 2_000
    @Option(help: "Concurrent complaint requests.") var concurrency = 8
    @Option(help: "Open callback tasks whose deadlines fall due during the run.") var openTasks = 10_000
    @Option(help: "Seconds over which those deadlines are spread.") var spread = 60
    @Option(help: "Path of the FeedbackService executable (release build).") var service: String

    func run() async throws {
        try await Bench.withDatabaseURL { client, url in
            let secret = UUID().uuidString + UUID().uuidString
            let port = 18_085
            // The HTTP-opened complaints must not escalate while their events are timed.
            let process = try Bench.startService(service, url: url, port: port, secret: secret, extra: ["FEEDBACK_GUIDE_MINUTES": "600"])
            defer { Bench.stop(process) }
            let http = HTTPClient.shared
            let base = "http://127.0.0.1:\(port)"
            try await Bench.waitUntilReady(http, base)
            try await seedOrganisation(client, members: complaints + openTasks)
            let tokens = await TokenAuthority(settings: try JWTSettings(secret: secret, issuer: "aftercare", audience: "aftercare"))
            let staff = try await tokens.sign(subject: "bench-g", role: .guide, dealerID: "bench-d", storeID: "bench-s", validFor: .seconds(7200))

            let seen = EventArrivals()
            let broker = try AMQPSettings(url: try Bench.environment("AFTERCARE_TEST_AMQP_URL"))
            let listener = "bench-feedback-" + UUID().uuidString.lowercased().prefix(8)
            let topology = EventBus.consumerTopology(
                service: listener,
                eventTypes: [CallbackCreated.eventType, CallbackEscalated.eventType],
                retryDelays: []
            )
            let consumer = AMQPConsumer(
                settings: broker,
                name: listener,
                queue: EventBus.queue(for: listener),
                prefetch: 1000,
                topology: topology,
                logger: Bench.logger
            ) { delivery in
                seen.record(delivery)
                return .acknowledge
            }
            let group = ServiceGroup(services: [consumer], logger: Bench.logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                defer { tasks.cancelAll() }
                try await Task.sleep(for: .seconds(2))  // the listener's queue is bound

                var startKiB = Bench.residentKiB(process.processIdentifier)
                var peakKiB = startKiB
                // 1. Complaints over HTTP, each timed to its callback-created event.
                let opening = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { lanes in
                    for lane in 0..<concurrency {
                        lanes.addTask {
                            for index in stride(from: lane, to: complaints, by: concurrency) {
                                let body =
                                    #"{"memberId": "bench-m-\#(index)", "channel": "hotline", "category": "product_quality", "severity": "high", "description": "Bench complaint \#(index)"}"#
                                let began = Date()
                                let (status, answer) = try await Bench.postReading(http, "\(base)/api/v1/complaints", token: staff, body: body)
                                guard status == 201, let opened = try? JSONDecoder().decode(Opened.self, from: answer) else {
                                    throw ValidationErrorMessage("opening a complaint answered \(status): \(String(buffer: answer))")
                                }
                                seen.sent.withLock { $0[opened.complaintId] = began }
                            }
                        }
                    }
                    try await lanes.waitForAll()
                }
                let openingTime = ContinuousClock.now - opening
                try await Bench.waitFor("callback-created events", timeout: .seconds(120)) { seen.created.withLock { $0.count } >= complaints }
                let created = seen.sent.withLock { sent in
                    seen.created.withLock { arrived in
                        sent.compactMap { id, began in arrived[id].map { Bench.duration($0.timeIntervalSince(began)) } }
                    }
                }.sorted()

                // 2. Open tasks whose deadlines fall due over the next `spread` seconds.
                let firstDue = Date().addingTimeInterval(15)
                let dueByTask = try await seedOpenTasks(client, count: openTasks, firstDue: firstDue)
                try await Bench.waitFor("escalations", timeout: .seconds(Int64(spread) + 180)) {
                    peakKiB = max(peakKiB, Bench.residentKiB(process.processIdentifier))
                    return seen.escalated.withLock { arrived in dueByTask.keys.allSatisfy { arrived[$0] != nil } }
                }
                let lags = seen.escalated.withLock { arrived in
                    dueByTask.compactMap { task, due in arrived[task].map { Bench.duration($0.timeIntervalSince(due)) } }
                }.sorted()
                let endKiB = Bench.residentKiB(process.processIdentifier)
                if startKiB == 0 { startKiB = endKiB }

                Bench.printTable(
                    "feedback: \(complaints) complaints over HTTP, then \(openTasks) open tasks falling due over \(spread) s",
                    [
                        ("complaints opened (\(concurrency) concurrent)", Bench.perSecond(complaints, openingTime) + " /s"),
                        ("request → callback.created p50", Bench.percentile(created, 50)),
                        ("request → callback.created p99", Bench.percentile(created, 99)),
                        ("deadline → callback.escalated p50", Bench.percentile(lags, 50)),
                        ("deadline → callback.escalated p99", Bench.percentile(lags, 99)),
                        ("deadline → callback.escalated max", lags.last.map(Bench.milliseconds) ?? "n/a"),
                        ("service RSS start / peak / end (MiB)", "\(startKiB / 1024) / \(peakKiB / 1024) / \(endKiB / 1024)"),
                    ]
                )
                await group.triggerGracefulShutdown()
            }
            try? await Bench.cleanUp(broker: broker, topology: topology)
        }
    }

    struct Opened: Decodable {
        let complaintId: UUID
    }

    /// One store of one dealer, its guide, manager and dealer admin, and `members` members
    /// bound to the guide: the projections membership's events would have filled.
    func seedOrganisation(_ client: PostgresClient, members: Int) async throws {
        for statement in [
            "INSERT INTO staff (staff_id, role, dealer_id, store_id) VALUES ('bench-g', 'guide', 'bench-d', 'bench-s'), ('bench-sm', 'store_manager', 'bench-d', 'bench-s'), ('bench-da', 'dealer_admin', 'bench-d', NULL)",
            "INSERT INTO members (member_id, guide_id, store_id, dealer_id) SELECT 'bench-m-' || n, 'bench-g', 'bench-s', 'bench-d' FROM generate_series(0, \(members - 1)) AS n",
        ] {
            try await client.query(PostgresQuery(unsafeSQL: statement), logger: Bench.logger)
        }
    }

    /// Complaints with an open task at the guide's rung and its escalation timer, as opening
    /// them over HTTP would leave them; deadlines one after another from `firstDue` over
    /// `spread` seconds. Returns each task's deadline.
    func seedOpenTasks(_ client: PostgresClient, count: Int, firstDue: Date) async throws -> [UUID: Date] {
        let step = Double(spread) / Double(max(count, 1))
        let first = ISO8601DateFormatter().string(from: firstDue)
        let offset = complaints  // members not used by the HTTP phase
        for statement in [
            """
            CREATE TEMP TABLE bench_tasks AS
            SELECT gen_random_uuid() AS complaint_id, gen_random_uuid() AS task_id, 'bench-m-' || (\(offset) + n) AS member_id,
                   '\(first)'::timestamptz + make_interval(secs => n * \(step)) AS due_at
            FROM generate_series(0, \(count - 1)) AS n
            """,
            """
            INSERT INTO complaints (id, member_id, store_id, dealer_id, channel, category, severity, description, status, opened_at, opened_by)
            SELECT complaint_id, member_id, 'bench-s', 'bench-d', 'hotline', 'other', 'medium', 'seeded', 'opened', due_at - interval '5 minutes', 'bench' FROM bench_tasks
            """,
            """
            INSERT INTO callback_tasks (id, complaint_id, level, assignee_id, due_at, status, created_at)
            SELECT task_id, complaint_id, 'guide', 'bench-g', due_at, 'open', due_at - interval '5 minutes' FROM bench_tasks
            """,
            """
            INSERT INTO scheduled_jobs (kind, unique_key, payload, due_at)
            SELECT 'feedback.callback.escalate', 'callback-escalation-' || task_id || '-guide', json_build_object('taskId', task_id, 'level', 'guide')::text, due_at FROM bench_tasks
            """,
        ] {
            try await client.query(PostgresQuery(unsafeSQL: statement), logger: Bench.logger)
        }
        var due: [UUID: Date] = [:]
        for try await (task, at) in try await client.query("SELECT task_id, due_at FROM bench_tasks", logger: Bench.logger).decode((UUID, Date).self)
        {
            due[task] = at
        }
        return due
    }
}

/// When each complaint request was sent, and when its callback-created (and each task's
/// escalated) event reached the bench.
final class EventArrivals: Sendable {
    let sent = Mutex<[UUID: Date]>([:])
    let created = Mutex<[UUID: Date]>([:])
    let escalated = Mutex<[UUID: Date]>([:])

    func record(_ delivery: AMQPDelivery) {
        let now = Date()
        let decoder = EventCoding.decoder()
        switch delivery.type {
        case CallbackCreated.eventType:
            guard let event = try? decoder.decode(EventEnvelope<CallbackCreated>.self, from: Data(delivery.body)) else { return }
            created.withLock { $0[event.payload.complaintId] = $0[event.payload.complaintId] ?? now }
        case CallbackEscalated.eventType:
            guard let event = try? decoder.decode(EventEnvelope<CallbackEscalated>.self, from: Data(delivery.body)), event.payload.fromLevel == .guide
            else { return }
            escalated.withLock { $0[event.payload.taskId] = $0[event.payload.taskId] ?? now }
        default:
            return
        }
    }
}
