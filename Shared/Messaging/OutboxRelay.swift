import AftercareAMQP
import AftercarePersistence
import Foundation
import Logging
import Metrics
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// Publishes committed outbox rows to the broker with confirms; once confirmed they are no
/// longer pending.
///
/// Each batch is claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that stays open
/// until the broker confirmed the batch, so replicas never publish the same rows at once and
/// a crash before the commit leaves the rows unsent, to be published again (consumers'
/// inboxes absorb the repeat). Woken by NOTIFY, with polling as the truth.
public final class OutboxRelay: Service, Sendable {
    public struct Settings: Sendable {
        /// Rows per claim, publish and confirm round.
        public var batchSize = 1000
        public var pollInterval: Duration = .seconds(1)
        /// Sent rows are kept this long after they were recorded (for audit and re-publishing),
        /// then pruned.
        public var retention: Duration = .seconds(7 * 24 * 3600)
        public var pruneEvery: Duration = .seconds(3600)
        /// Rows one pruning statement deletes: a prune goes on between the relay's batches,
        /// so publishing never waits behind a day's worth of deletes.
        public var pruneBatch = 20_000
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
    /// Unix time of the last batch that went through: `time() - aftercare_outbox_last_batch_seconds`
    /// is the relay's stall, for an alert, whether or not anything asks for readiness.
    private let lastBatchGauge = Gauge(label: "aftercare_outbox_last_batch_seconds")
    /// When a batch last went through (published, or nothing to publish).
    private let stallClock = StallClock()

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

    /// How long since the relay last got a batch through: while it cannot publish (the broker
    /// blocked or away, the database not answering), unsent events grow older by as much.
    /// Zero until the relay runs.
    public var sinceLastSuccess: Duration { stallClock.sinceLast ?? .zero }

    private func recordSuccess() {
        stallClock.restart()
        lastBatchGauge.record(Date().timeIntervalSince1970)
    }

    public func run() async throws {
        // The relay is built before the migrations run and starts after them: its patience
        // counts from here, or a slow migration would read as a stalled relay.
        stallClock.restart()
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
                    // One pruning batch per turn; the prune is done when one comes back short.
                    if try await pruneBatch() < settings.pruneBatch {
                        lastPrune = .now
                    } else {
                        continue
                    }
                }
                await doorbell.wait(upTo: settings.pollInterval)
            } catch {
                if Task.isCancelled { return }
                failures.increment()
                logger.warning(
                    "outbox relay could not publish, retrying",
                    metadata: ["error": "\(ErrorText.describe(error))", "retry_in": "\(backoff)"]
                )
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }

    /// Publishes one batch of pending rows; returns how many the broker confirmed.
    @discardableResult
    public func relayBatch() async throws -> Int {
        let batchSize = settings.batchSize
        let exchange = EventBus.exchange
        let producer = self.producer
        let publisher = self.publisher
        let logger = self.logger
        // The transaction stays open while the broker confirms: its deadline covers both.
        let (count, unroutableTypes) = try await database.transaction(logger: logger, within: DatabaseDeadline.standard + .seconds(15)) {
            connection -> (Int, [String]) in
            // Claiming is deleting the events' pending markers: the delete holds their locks
            // until the broker confirmed the batch and the transaction commits; a rollback
            // (broker gone, relay killed) puts them back.
            var messages: [AMQPOutgoingMessage] = []
            for event in try await Self.claimBatch(batchSize, on: connection, logger: logger) {
                messages.append(
                    AMQPOutgoingMessage(
                        exchange: exchange,
                        routingKey: event.type,
                        body: event.envelope,
                        messageID: event.eventID,
                        type: event.type,
                        correlationID: event.correlationID,
                        appID: producer,
                        headers: [EventHeader.aggregateID: .string(event.aggregateID)]
                    )
                )
            }
            guard !messages.isEmpty else { return (0, []) }
            let outcomes = try await publisher.publish(messages)
            return (messages.count, zip(messages, outcomes).filter { $0.1 == .unroutable }.map(\.0.routingKey))
        }
        published.increment(by: count)
        recordSuccess()
        if !unroutableTypes.isEmpty {
            // Nobody subscribes to these (yet). The rows stay in the outbox for the retention
            // period, so they can be re-published once a consumer exists.
            unroutable.increment(by: unroutableTypes.count)
            logger.notice("events had no subscriber", metadata: ["types": "\(Set(unroutableTypes).sorted())"])
        }
        return count
    }

    /// One claimed event, as the relay publishes it: ids as PostgreSQL writes them (lower
    /// case) and the envelope's bytes as stored, so the relay formats and copies nothing.
    struct ClaimedEvent {
        let position: Int64
        let eventID: String
        let type: String
        let aggregateID: String
        let correlationID: String
        let envelope: [UInt8]
    }

    /// A claim found positions without their events: publishing the rest would lose these.
    struct ClaimMismatch: Error, CustomStringConvertible {
        let missing: [Int64]
        var description: String { "claimed outbox positions without a row: \(missing.prefix(10))" }
    }

    /// Claims up to `batchSize` pending events on `connection` (inside the relay's transaction)
    /// and reads them, in position order.
    ///
    /// Two statements on purpose. `outbox_claim` is volatile, so its statements see rows
    /// committed after the statement that called it began; a lookup in that calling statement
    /// (the first form, `unnest(outbox_claim(n)) JOIN outbox`) did not see events committed in
    /// between, and their markers were deleted with nothing published: the broker-restart test
    /// lost 15 of 600 events that way under load. The lookup here starts after the claim
    /// returned, so it sees every event whose marker was claimed; should one still be missing,
    /// the claim is refused and rolled back rather than half-published.
    static func claimBatch(_ batchSize: Int, on connection: PostgresConnection, logger: Logger) async throws -> [ClaimedEvent] {
        try await connection.query(claimPlanning, logger: logger)
        var positions: [Int64] = []
        for try await claimed in try await connection.query(claim(batchSize), logger: logger).decode([Int64].self) { positions = claimed }
        guard !positions.isEmpty else { return [] }
        var events: [ClaimedEvent] = []
        for try await (position, eventID, type, aggregateID, correlationID, envelope) in try await connection.query(
            """
            SELECT position, event_id::text, event_type, aggregate_id, correlation_id::text, envelope
            FROM outbox WHERE position = ANY(\(positions)) ORDER BY position
            """,
            logger: logger
        ).decode((Int64, String, String, String, String, ByteBuffer).self) {
            events.append(
                ClaimedEvent(
                    position: position,
                    eventID: eventID,
                    type: type,
                    aggregateID: aggregateID,
                    correlationID: correlationID,
                    envelope: Array(envelope.readableBytesView)
                )
            )
        }
        // Positions are unique, so a short count means a claimed event was not found.
        guard events.count == positions.count else {
            let found = Set(events.map(\.position))
            throw ClaimMismatch(missing: positions.filter { !found.contains($0) })
        }
        return events
    }

    /// Run in the claiming transaction before the claim, so that markers and events are read
    /// through their primary keys even when the statistics say the tables are nearly empty.
    static let claimPlanning: PostgresQuery = "SET LOCAL enable_seqscan = off"

    /// Takes the oldest pending markers and returns the positions they stand for.
    static func claim(_ batchSize: Int) -> PostgresQuery {
        "SELECT outbox_claim(\(Int32(clamping: batchSize)))"
    }

    /// Claims pending events: takes the oldest markers, skipping those another relay holds,
    /// until they stand for at least `max_events` events, deletes them and returns their
    /// positions. The deletes hold the markers' locks until the batch commits; a rollback puts
    /// them back. Markers are read through the primary key whatever the statistics say: the
    /// pending table is a queue whose statistics lag far behind (400,000 rows taken for 7,000
    /// during a clearing), and a sequential scan would read all of them for every batch. The
    /// loop locks a few markers ahead of what it takes; those stay pending, only locked until
    /// the commit. Taking markers in order of their (lowest) position keeps each aggregate's
    /// events in order: a later event of an aggregate was written after the earlier one
    /// committed, so every position of its statement is higher.
    static let claimFunction = """
        CREATE FUNCTION outbox_claim(max_events integer) RETURNS bigint[] LANGUAGE plpgsql
        SET enable_seqscan = off AS $$
        DECLARE
            marker record;
            taken tid[] := '{}';
            claimed bigint[] := '{}';
        BEGIN
            FOR marker IN
                SELECT ctid, position, positions FROM outbox_pending ORDER BY position LIMIT max_events FOR UPDATE SKIP LOCKED
            LOOP
                taken := taken || marker.ctid;
                claimed := claimed || coalesce(marker.positions, ARRAY[marker.position]);
                EXIT WHEN cardinality(claimed) >= max_events;
            END LOOP;
            DELETE FROM outbox_pending WHERE ctid = ANY(taken);
            RETURN claimed;
        END
        $$
        """

    /// Deletes sent rows recorded longer ago than the retention period. Rows still pending
    /// (the broker away for that long) are never touched: nothing from the oldest pending
    /// marker's position on is (a marker's position is the lowest of those it stands for).
    public func prune() async throws {
        while try await pruneBatch() == settings.pruneBatch, !Task.isCancelled {}
    }

    /// Deletes what is prunable among the oldest `pruneBatch` rows; answers how many it
    /// deleted. Fewer than `pruneBatch` means the prune has reached the rows still kept
    /// (positions follow the order rows were recorded in), so each statement reads at most
    /// `pruneBatch` rows by position and none takes long.
    @discardableResult
    public func pruneBatch() async throws -> Int {
        let seconds = Int(settings.retention.components.seconds)
        let rows = try await database.rows(
            """
            WITH oldest AS (SELECT position, created_at FROM outbox ORDER BY position LIMIT \(settings.pruneBatch)),
            pruned AS (
                DELETE FROM outbox o USING oldest x
                WHERE o.position = x.position AND x.created_at < now() - make_interval(secs => \(seconds))
                  AND o.position < (SELECT coalesce(min(p.position), 9223372036854775807) FROM outbox_pending p)
                RETURNING 1
            )
            SELECT count(*)::int FROM pruned
            """,
            logger: logger
        )
        return try rows.first?.decode(Int.self) ?? 0
    }
}
