import AftercareAMQP
import AftercarePersistence
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// Publishes committed outbox rows to the broker with confirms and marks them sent.
///
/// Each batch is claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that stays open
/// until the broker confirmed the batch, so replicas never publish the same rows at once and
/// a crash before the commit leaves the rows unsent, to be published again (consumers'
/// inboxes absorb the repeat). Woken by NOTIFY, with polling as the truth.
public final class OutboxRelay: Service, Sendable {
    public struct Settings: Sendable {
        /// Rows per claim, publish, confirm and mark round.
        public var batchSize = 1000
        public var pollInterval: Duration = .seconds(1)
        /// Sent rows are kept this long (for audit and re-publishing), then pruned.
        public var retention: Duration = .seconds(7 * 24 * 3600)
        public var pruneEvery: Duration = .seconds(3600)
        public init() {}
    }

    private let database: PostgresClient
    private let publisher: AMQPPublisher
    private let producer: String
    private let settings: Settings
    private let logger: Logger
    private let doorbell = Doorbell()
    private let published: Counter
    private let unroutable: Counter
    private let failures: Counter

    public init(database: PostgresClient, publisher: AMQPPublisher, producer: String, settings: Settings = .init(), logger: Logger) {
        self.database = database
        self.publisher = publisher
        self.producer = producer
        self.settings = settings
        self.logger = logger
        self.published = Counter(label: "aftercare_outbox_published_total")
        self.unroutable = Counter(label: "aftercare_outbox_unroutable_total")
        self.failures = Counter(label: "aftercare_outbox_publish_failures_total")
    }

    public func run() async throws {
        await runWokenByNotifications(channel: Outbox.notificationChannel, client: database, doorbell: doorbell, logger: logger) { [self] in
            await relayLoop()
        }
    }

    private func relayLoop() async {
        var backoff = Duration.milliseconds(250)
        var lastPrune = ContinuousClock.now - settings.pruneEvery
        while !Task.isCancelled {
            do {
                // Drain while full batches keep coming, then wait for news.
                while try await relayBatch() == settings.batchSize, !Task.isCancelled {}
                backoff = .milliseconds(250)
                if ContinuousClock.now - lastPrune >= settings.pruneEvery {
                    try await prune()
                    lastPrune = .now
                }
                await doorbell.wait(upTo: settings.pollInterval)
            } catch {
                if Task.isCancelled { return }
                failures.increment()
                logger.warning("outbox relay could not publish, retrying", metadata: ["error": "\(ErrorText.describe(error))", "retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }

    /// Publishes one batch of unsent rows; returns how many were marked sent.
    @discardableResult
    public func relayBatch() async throws -> Int {
        let batchSize = settings.batchSize
        let exchange = EventBus.exchange, producer = self.producer, publisher = self.publisher, logger = self.logger
        let (count, unroutableTypes) = try await database.transaction(logger: logger) { connection -> (Int, [String]) in
            let rows = try await connection.query(
                """
                SELECT position, event_id, event_type, aggregate_id, correlation_id, envelope FROM outbox
                WHERE sent_at IS NULL ORDER BY position LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            var positions: [Int64] = []
            var messages: [AMQPOutgoingMessage] = []
            for try await (position, eventID, type, aggregateID, correlationID, envelope) in rows.decode((Int64, UUID, String, String, UUID, String).self) {
                positions.append(position)
                messages.append(AMQPOutgoingMessage(
                    exchange: exchange, routingKey: type, body: Array(envelope.utf8), messageID: eventID.uuidString.lowercased(),
                    type: type, correlationID: correlationID.uuidString.lowercased(), appID: producer,
                    headers: [EventHeader.aggregateID: .string(aggregateID)]
                ))
            }
            guard !messages.isEmpty else { return (0, []) }
            let outcomes = try await publisher.publish(messages)
            try await connection.query(
                "UPDATE outbox SET sent_at = now() WHERE position = ANY(\(positions))",
                logger: logger
            )
            return (messages.count, zip(messages, outcomes).filter { $0.1 == .unroutable }.map(\.0.routingKey))
        }
        published.increment(by: count)
        if !unroutableTypes.isEmpty {
            // Nobody subscribes to these (yet). The rows stay in the outbox for the retention
            // period, so they can be re-published once a consumer exists.
            unroutable.increment(by: unroutableTypes.count)
            logger.notice("events had no subscriber", metadata: ["types": "\(Set(unroutableTypes).sorted())"])
        }
        return count
    }

    /// Deletes rows sent longer ago than the retention period; unsent rows are never touched.
    public func prune() async throws {
        let seconds = Int(settings.retention.components.seconds)
        try await database.query(
            "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => \(seconds))",
            logger: logger
        )
    }
}
