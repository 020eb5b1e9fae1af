import AftercareAMQP
import AftercareDeadline
import AftercareMessaging
import AftercarePersistence
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `GET /api/v1/ops/messaging`: whether the service keeps up with its events and timers:
/// unsent outbox rows and the age of the oldest, how long since the relay last got a batch
/// through, pending and overdue jobs, the broker connection and whether the broker blocks
/// it, and for a consuming service whether its consumer is stalled and how many dead letters
/// wait. HQ admins and tools only. Each question has its own short deadline, so the answer
/// comes even while the broker is blocked or the database slow (a field it could not learn
/// is absent).
struct MessagingStatusController: Sendable {
    let database: PostgresClient
    let publisher: AMQPPublisher
    let relay: OutboxRelay
    let consumer: EventConsumer?
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
        let brokerBlocked: Bool
        /// Since the relay last got a batch through (published, or nothing to publish).
        let relaySecondsSinceBatch: Double
        let consumerStalled: Bool?
        let outbox: Outbox?
        let jobs: Jobs?
        let deadLetters: Int?
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("ops/messaging").add(middleware: RoleGate(.hqAdmin, .service)).get { _, _ in await status() }
    }

    func status() async -> Status {
        let ask = Duration.seconds(2)
        let outbox = try? await database.rows(
            """
            SELECT coalesce(sum(coalesce(cardinality(p.positions), 1)), 0)::bigint, EXTRACT(EPOCH FROM now() - min(o.created_at))::float8
            FROM outbox_pending p JOIN outbox o USING (position)
            """,
            logger: logger,
            within: ask
        ).first?.decode((Int, Double?).self)
        let jobs = try? await database.rows(
            "SELECT count(*)::bigint, (count(*) FILTER (WHERE due_at <= \(clock.now())))::bigint FROM scheduled_jobs",
            logger: logger,
            within: ask
        ).first?.decode((Int, Int).self)
        let deadLetterCount: Int? =
            if let deadLetters { try? await withDeadline(ask, "counting dead letters") { try await deadLetters.count() } } else { nil }
        let relayed = relay.sinceLastSuccess.components
        return Status(
            brokerConnected: publisher.isConnected,
            brokerBlocked: publisher.isBlocked,
            relaySecondsSinceBatch: Double(relayed.seconds) + Double(relayed.attoseconds) / 1e18,
            consumerStalled: consumer?.isStalled,
            outbox: outbox.map { .init(unsent: $0.0, oldestUnsentSeconds: $0.1) },
            jobs: jobs.map { .init(pending: $0.0, overdue: $0.1) },
            deadLetters: deadLetterCount
        )
    }
}
