import AftercareAMQP
import AftercareMessaging
import AftercarePersistence
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `GET /api/v1/ops/messaging`: whether the service keeps up with its events and timers:
/// unsent outbox rows and the age of the oldest, pending and overdue jobs, the broker
/// connection, and (for a consuming service) dead letters waiting. HQ admins and tools only.
struct MessagingStatusController: Sendable {
    let database: PostgresClient
    let publisher: AMQPPublisher
    let deadLetters: DeadLetters?
    let clock: any BusinessClock
    let logger: Logger

    struct Status: ResponseEncodable {
        struct Outbox: Encodable {
            let unsent: Int
            let oldestUnsentSeconds: Double?
        }
        struct Jobs: Encodable {
            let pending: Int
            let overdue: Int
        }
        let brokerConnected: Bool
        let outbox: Outbox
        let jobs: Jobs
        let deadLetters: Int?
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("ops/messaging").add(middleware: RoleGate(.hqAdmin, .service)).get { _, _ in try await status() }
    }

    func status() async throws -> Status {
        let outbox = try await database.query(
            """
            SELECT coalesce(sum(coalesce(cardinality(p.positions), 1)), 0)::bigint, EXTRACT(EPOCH FROM now() - min(o.created_at))::float8
            FROM outbox_pending p JOIN outbox o USING (position)
            """,
            logger: logger
        ).collect().first?.decode((Int, Double?).self) ?? (0, nil)
        let jobs = try await database.query(
            "SELECT count(*)::bigint, (count(*) FILTER (WHERE due_at <= \(clock.now())))::bigint FROM scheduled_jobs", logger: logger
        ).collect().first?.decode((Int, Int).self) ?? (0, 0)
        let deadLetterCount: Int? = if let deadLetters { try? await deadLetters.count() } else { nil }
        return Status(
            brokerConnected: publisher.isConnected,
            outbox: .init(unsent: outbox.0, oldestUnsentSeconds: outbox.1),
            jobs: .init(pending: jobs.0, overdue: jobs.1),
            deadLetters: deadLetterCount
        )
    }
}
