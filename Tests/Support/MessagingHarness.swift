import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The payload the messaging tests send. `failTimes` makes the handler throw that many
/// times before it succeeds; a negative `n` fails validation (a poison message).
public struct Probe: EventPayload, Equatable {
    public static let eventType = "test.probe.recorded"
    public let n: Int
    public let failTimes: Int
    /// The handler's first attempts find the database unavailable this many times.
    public let unavailableTimes: Int

    public init(n: Int, failTimes: Int = 0, unavailableTimes: Int = 0) {
        self.n = n
        self.failTimes = failTimes
        self.unavailableTimes = unavailableTimes
    }

    public func validate() throws(EventValidationError) {
        if n < 0 { throw EventValidationError("n must not be negative") }
    }
}

/// One producing-and-consuming "service" on a throw-away database and its own queues: the
/// outbox and relay on one side, the inbox and an `effects` table on the other. Comparing
/// the outbox with `effects` shows whether anything was lost or applied twice.
public final class MessagingHarness: Sendable {
    public let service: String
    public let client: PostgresClient
    /// The client the harness's consumers use: `client` unless the test gave the consumer's
    /// transactions a short idle limit of their own (the rest of the harness keeps the usual
    /// one, so a busy machine does not end its set-up transactions).
    let consumerClient: PostgresClient
    /// The harness's own database, for a test that opens a connection of its own there.
    public let database: TestDatabase?
    public let broker: AMQPSettings
    public let publisher: AMQPPublisher
    public let outbox: Outbox
    /// Handler attempts per event (rolled-back ones included).
    public let attempts = Mutex<[UUID: Int]>([:])
    /// Probes (by `n`) whose handler never returns on its first attempt, as a handler stuck
    /// on a connection that PostgreSQL ended would not.
    public let hangOnFirstAttempt = Mutex<Set<Int>>([])
    /// Probes whose handler never returns, however often they are delivered.
    public let hangAlways = Mutex<Set<Int>>([])
    /// Deliveries seen by consumers built with `observedConsumer`, by message id.
    public let deliveries = Mutex<[String: Int]>([:])
    let logger = TestEnvironment.logger

    public init(client: PostgresClient, consumerClient: PostgresClient? = nil, database: TestDatabase? = nil) throws {
        self.consumerClient = consumerClient ?? client
        self.database = database
        self.service = "t" + UUID().uuidString.lowercased().prefix(8)
        self.client = client
        self.broker = try AMQPSettings(url: try TestEnvironment.amqpURL(), heartbeatSeconds: 2)
        self.publisher = AMQPPublisher(
            settings: broker,
            name: "\(service)-publisher",
            topology: EventBus.publisherTopology,
            logger: TestEnvironment.logger
        )
        // The probe's type belongs to "test": the producer a consumer expects for it.
        self.outbox = Outbox(producer: "test", logger: TestEnvironment.logger)
    }

    /// Runs `body` with a migrated database and a connected publisher; deletes the queues after.
    /// With `consumerIdleInTransaction`, PostgreSQL ends a consumer's transaction left idle
    /// that long, as the services' `idle_in_transaction_session_timeout` does.
    public static func with(
        consumerIdleInTransaction: Duration? = nil,
        _ body: @escaping @Sendable (MessagingHarness) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                guard let idle = consumerIdleInTransaction else {
                    try await run(try MessagingHarness(client: client, database: database), body)
                    return
                }
                try await withRunningClient(try makeClient(url: database.url, idleInTransaction: idle)) { consumerClient in
                    try await run(try MessagingHarness(client: client, consumerClient: consumerClient, database: database), body)
                }
            }
        }
    }

    private static func run(_ harness: MessagingHarness, _ body: @escaping @Sendable (MessagingHarness) async throws -> Void) async throws {
        try await MigrationRunner(
            migrations: PlatformSchema.migrations + [Migration("test-effects", "CREATE TABLE effects (event_id uuid NOT NULL, n integer NOT NULL)")],
            logger: TestEnvironment.logger
        ).run(on: harness.client)
        harness.publisher.start()
        try await waitUntil("the harness publisher connected") { harness.publisher.isConnected }
        // The queues exist before anything is published, as in a deployed suite.
        try await harness.publisher.declare(harness.topology)
        do {
            try await body(harness)
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    /// Deletes the harness's queues. A queue left behind stays bound to the probe's routing
    /// key and collects every later test's probes, so after a broker restart the deletes wait
    /// for the publisher to be back, and a failed one is reported.
    func tearDown() async {
        if !(await eventually(timeout: .seconds(20)) { publisher.isConnected }) {
            logger.warning("the publisher is not back; deleting the test queues will fail")
        }
        for queue in topology.queues.map(\.name) {
            do {
                try await publisher.deleteQueue(queue)
            } catch {
                logger.warning("could not delete a test queue; it stays on the test broker", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
        await publisher.shutdown()
    }

    public var consumerSettings: EventConsumer.Settings {
        var settings = EventConsumer.Settings()
        settings.retryDelays = [.seconds(1), .seconds(1)]
        return settings
    }

    public var topology: AMQPTopology {
        EventBus.consumerTopology(service: service, eventTypes: [Probe.eventType], retryDelays: consumerSettings.retryDelays)
    }

    public var subscriptions: EventSubscriptions {
        var subscriptions = EventSubscriptions()
        subscriptions.on(Probe.self) { [self] envelope, connection in
            // Every harness's queue is bound to the probe's routing key: probes of another
            // harness (a test beside this one, or a relay an earlier test left behind) are
            // consumed and ignored, so counts here are this harness's alone.
            let own = try await connection.query(
                "SELECT 1 FROM outbox WHERE event_id = \(envelope.metadata.eventID)",
                logger: self.logger
            ).collect()
            guard !own.isEmpty || envelope.metadata.aggregateID == "raw" else { return }
            let attempt = self.attempts.withLock {
                $0[envelope.metadata.eventID, default: 0] += 1
                return $0[envelope.metadata.eventID]!
            }
            try await connection.query(
                "INSERT INTO effects (event_id, n) VALUES (\(envelope.metadata.eventID), \(envelope.payload.n))",
                logger: self.logger
            )
            if attempt == 1 && self.hangOnFirstAttempt.withLock({ $0.contains(envelope.payload.n) })
                || self.hangAlways.withLock({ $0.contains(envelope.payload.n) })
            {
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
            }
            if attempt <= envelope.payload.unavailableTimes { throw DatabaseConnectionEnded() }
            if attempt <= envelope.payload.failTimes { throw ProbeFailure(attempt: attempt) }
        }
        return subscriptions
    }

    public func relay(_ adjust: (inout OutboxRelay.Settings) -> Void = { _ in }) -> OutboxRelay {
        var settings = OutboxRelay.Settings()
        adjust(&settings)
        return OutboxRelay(database: client, publisher: publisher, producer: "test", settings: settings, logger: logger)
    }

    public func consumer(_ adjust: (inout EventConsumer.Settings) -> Void = { _ in }) -> EventConsumer {
        var settings = consumerSettings
        adjust(&settings)
        return EventConsumer(
            service: service,
            subscriptions: subscriptions,
            database: consumerClient,
            publisher: publisher,
            broker: broker,
            settings: settings,
            logger: logger
        )
    }

    public func processor() -> EventDeliveryProcessor {
        EventDeliveryProcessor(
            service: service,
            subscriptions: subscriptions,
            database: client,
            publisher: publisher,
            settings: consumerSettings,
            logger: logger
        )
    }

    /// A consumer built from the same processor as `EventConsumer`, which also counts
    /// deliveries and lets a test step in after the handler's commit (`afterProcessing`).
    public func observedConsumer(afterProcessing: @escaping @Sendable (AMQPDelivery) async -> Void = { _ in }) -> AMQPConsumer {
        let processor = processor()
        return AMQPConsumer(
            settings: broker,
            name: "\(service)-observed",
            queue: EventBus.queue(for: service),
            prefetch: 20,
            topology: topology,
            logger: logger
        ) { [self] delivery in
            self.deliveries.withLock { $0[delivery.messageID ?? "-", default: 0] += 1 }
            let disposition = await processor.process(delivery)
            await afterProcessing(delivery)
            return disposition
        }
    }

    /// Records `count` events, `perTransaction` to a transaction, on aggregates a-0…a-9.
    @discardableResult
    public func emit(_ count: Int, perTransaction: Int = 10, failTimes: Int = 0, unavailableTimes: Int = 0) async throws -> [UUID] {
        var ids: [UUID] = []
        var index = 0
        while index < count {
            let batch = min(perTransaction, count - index)
            let first = index
            let outbox = self.outbox
            let recorded = try await client.transaction(logger: logger) { connection in
                var recorded: [UUID] = []
                for n in first..<(first + batch) {
                    recorded.append(
                        try await outbox.record(
                            Probe(n: n, failTimes: failTimes, unavailableTimes: unavailableTimes),
                            aggregateID: "a-\(n % 10)",
                            on: connection
                        ).eventID
                    )
                }
                return recorded
            }
            ids += recorded
            index += batch
        }
        return ids
    }

    /// Committed effects per event id: exactly-once means every count is 1.
    public func effects() async throws -> [UUID: Int] {
        var counts: [UUID: Int] = [:]
        for row in try await client.rows("SELECT event_id FROM effects", logger: logger) { counts[try row.decode(UUID.self), default: 0] += 1 }
        return counts
    }

    public func inboxCount() async throws -> Int {
        try await client.rows("SELECT count(*) FROM inbox", logger: logger).first?.decode(Int.self) ?? -1
    }

    /// Events still pending: a marker stands for its run's positions, or for its own.
    public func unsentCount() async throws -> Int {
        try await client.rows(
            "SELECT coalesce(sum(coalesce(cardinality(positions), 1)), 0)::int8 FROM outbox_pending",
            logger: logger
        ).first?.decode(Int.self) ?? -1
    }

    /// Records `count` events in one `record(batch:)`, over `aggregates` aggregates.
    public func emitBatch(_ count: Int, aggregates: Int = 10) async throws {
        let entries = (0..<count).map { Outbox.Entry(Probe(n: $0), aggregateID: "a-\($0 % aggregates)") }
        let outbox = self.outbox
        try await client.transaction(logger: logger) { connection in
            try await outbox.record(batch: entries, on: connection)
        }
    }

    public func outboxIDs() async throws -> Set<UUID> {
        var ids = Set<UUID>()
        for row in try await client.rows("SELECT event_id FROM outbox", logger: logger) { ids.insert(try row.decode(UUID.self)) }
        return ids
    }

    /// Publishes raw bytes straight into this service's queue, as if routed with `type`: what
    /// a misbehaving producer of that type would have got there.
    /// `routedAs` is the routing key it arrived with, when it differs from its AMQP `type`.
    public func publishRaw(_ body: String, type: String, routedAs: String? = nil, messageID: String = UUID().uuidString.lowercased()) async throws {
        var message = AMQPOutgoingMessageFactory.raw(body, service: service, type: type, messageID: messageID)
        if let routedAs { message.headers[EventHeader.originalRoutingKey] = .string(routedAs) }
        _ = try await publisher.publish(message)
    }

    /// The envelope JSON a correct producer would send for `payload`.
    public func envelopeJSON(_ payload: Probe, eventID: UUID = UUID(), type: String = Probe.eventType, producer: String = "test") throws -> String {
        let metadata = EventMetadata(
            eventID: eventID,
            type: type,
            schemaVersion: 1,
            occurredAt: Date(),
            producer: producer,
            correlationID: UUID(),
            causationID: nil,
            aggregateID: "raw",
            aggregateSequence: 1
        )
        return String(decoding: try EventCoding.encoder().encode(EventEnvelope(metadata: metadata, payload: payload)), as: UTF8.self)
    }
}

public struct ProbeFailure: Error, CustomStringConvertible {
    public let attempt: Int
    public var description: String { "probe handler failed on attempt \(attempt)" }
}

/// Raw messages as a misbehaving producer would send them, put straight into a service's
/// queue through its direct exchange, with the routing key they were published with.
public enum AMQPOutgoingMessageFactory {
    public static func raw(_ body: String, service: String, type: String, messageID: String = UUID().uuidString.lowercased()) -> AMQPOutgoingMessage {
        AMQPOutgoingMessage(
            exchange: EventBus.directExchange(for: service),
            routingKey: EventBus.queue(for: service),
            body: Array(body.utf8),
            messageID: messageID,
            type: type,
            headers: [EventHeader.originalRoutingKey: .string(type)]
        )
    }
}
