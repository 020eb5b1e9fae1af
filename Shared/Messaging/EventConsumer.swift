import AftercareAMQP
import AftercareContracts
import AftercarePersistence
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// A service's consumer of the event bus. For each delivery it
/// - sends poison (unreadable JSON, unknown type, invalid payload) straight to the
///   dead-letter queue with the reason in a header;
/// - otherwise runs the handler in one transaction with the inbox record, so a duplicate
///   delivery is acknowledged and changes nothing;
/// - on a handler failure, republishes the message to a retry queue (back-off grows with each
///   attempt) and acknowledges the original, so the failure never blocks the queue behind it;
///   after the last attempt the message is dead-lettered. Nothing is dropped: a message is
///   acknowledged only after its effects committed or after the broker confirmed its copy.
public final class EventConsumer: Service, Sendable {
    public struct Settings: Sendable {
        /// Delays before the 2nd, 3rd, … attempt; attempts = delays + 1.
        public var retryDelays: [Duration] = [.seconds(1), .seconds(10), .seconds(60), .seconds(300)]
        /// Deliveries in hand, unacknowledged: enough for every lane to fill a batch. With 100
        /// (and batches of 50) the benchmark's consumer stage ran at 5,000 events/s, with
        /// 1,000 (and 200) at 12,000.
        public var prefetch: UInt16 = 1000
        /// Deliveries handled at once; one aggregate's events always share a lane. Two: each
        /// lane's batches are then larger and the database has fewer transactions to commit
        /// (`scripts/run-bench messaging`: 10,500 events/s end to end against 8,300 with four
        /// lanes; with a handler writing a row, 5,800 against 6,100, within the runs' spread).
        public var lanes = 2
        /// Deliveries waiting on a lane are handled together, in one transaction, up to this
        /// many: each transaction costs a BEGIN, an inbox statement and a COMMIT.
        public var maxBatch = 200
        /// How long a lane whose batch is short of `maxBatch` waits for more deliveries before
        /// handling it: fewer, fuller batches cost the database fewer transactions and commits.
        /// A lone event waits this long more. With 2 lanes (`scripts/run-bench messaging`): no
        /// linger 10,500–11,200 events/s end to end, 2 ms 13,600, 5 ms 15,200 (6,300 with a
        /// handler writing a row).
        public var linger: Duration = .milliseconds(5)
        /// After shutdown begins, how long the lanes get to finish the deliveries in hand.
        public var stopGrace: Duration = .seconds(10)
        /// How long a lane's batch may take (its transaction, retries' publishes) before its
        /// deliveries go back to the queue and the lane carries on.
        public var handlerDeadline: Duration = .seconds(30)
        /// How long the consumer may go without progress while messages wait before it is
        /// reported stalled and restarted (`CONSUMER_STALL_SECONDS`).
        public var stallAfter: Duration = .seconds(60)
        /// How often the watchdog looks.
        public var watchEvery: Duration = .seconds(5)
        public init() {}
    }

    private let consumer: AMQPConsumer
    private let watchdog: ConsumerWatchdog
    private let stopGrace: Duration
    private let logger: Logger

    public init(
        service: String,
        subscriptions: EventSubscriptions,
        database: PostgresClient,
        publisher: AMQPPublisher,
        broker: AMQPSettings,
        settings: Settings = .init(),
        logger: Logger
    ) {
        let topology = EventBus.consumerTopology(service: service, eventTypes: subscriptions.eventTypes, retryDelays: settings.retryDelays)
        let processor = EventDeliveryProcessor(
            service: service,
            subscriptions: subscriptions,
            database: database,
            publisher: publisher,
            settings: settings,
            logger: logger
        )
        self.stopGrace = settings.stopGrace
        self.logger = logger
        self.consumer = AMQPConsumer(
            settings: broker,
            name: "\(service)-consumer",
            queue: EventBus.queue(for: service),
            prefetch: settings.prefetch,
            topology: topology,
            lanes: settings.lanes,
            laneKey: { $0.headers[EventHeader.aggregateID]?.stringValue },
            maxBatch: settings.maxBatch,
            linger: settings.linger,
            handlerDeadline: settings.handlerDeadline,
            logger: logger,
            batchHandler: { await processor.processBatch($0) }
        )
        self.watchdog = ConsumerWatchdog(
            consumer: consumer,
            publisher: publisher,
            queue: EventBus.queue(for: service),
            patience: settings.stallAfter,
            every: settings.watchEvery,
            logger: logger
        )
    }

    public var isConnected: Bool { consumer.isConnected }

    /// No progress while messages wait, for longer than `Settings.stallAfter`.
    public var isStalled: Bool { watchdog.isStalled }

    /// How often the consumer was restarted for making no progress.
    public var restarts: Int { watchdog.restartCount }

    public func run() async throws {
        // A lane stuck in a database transaction is left behind; closing the connection
        // hands its unacknowledged deliveries back to the broker, and should the transaction
        // still commit, the inbox absorbs the redelivery.
        let stopped = await withDiscardingTaskGroup { group in
            group.addTask { [watchdog] in await watchdog.run() }
            let stopped = await runUntilShutdown(grace: stopGrace, cancelAtShutdown: false) { [consumer] in _ = try? await consumer.run() }
            group.cancelAll()
            return stopped
        }
        if !stopped {
            logger.warning(
                "a consumer lane did not finish within \(stopGrace) of shutdown; closing the connection, its deliveries go back to the queue"
            )
            await consumer.closeConnection()
        }
    }
}

/// What happens to one delivery; separate from the consumer so it can be composed with
/// any `AMQPConsumer` (tools, tests that tear a consumer down mid-delivery).
public struct EventDeliveryProcessor: Sendable {
    let service: String
    let subscriptions: EventSubscriptions
    let database: PostgresClient
    let publisher: AMQPPublisher
    let settings: EventConsumer.Settings
    let logger: Logger
    let counters = ConsumerCounters()

    public init(
        service: String,
        subscriptions: EventSubscriptions,
        database: PostgresClient,
        publisher: AMQPPublisher,
        settings: EventConsumer.Settings,
        logger: Logger
    ) {
        self.service = service
        self.subscriptions = subscriptions
        self.database = database
        self.publisher = publisher
        self.settings = settings
        self.logger = logger
    }

    enum Outcome: String {
        case handled, duplicate, retried
        case deadLettered = "dead_lettered"
    }

    public func process(_ delivery: AMQPDelivery) async -> AMQPDisposition {
        var logger = self.logger
        logger[metadataKey: "event_id"] = .string(delivery.messageID ?? "-")
        logger[metadataKey: "event_type"] = .string(delivery.type ?? routedKey(of: delivery))

        let event: EventSubscriptions.Decoded
        switch read(delivery) {
        case .success(let decoded): event = decoded
        // Poison: there is no point in retrying what can never be read.
        case .failure(let refusal): return await deadLetter(delivery, reason: refusal.reason, logger: logger)
        }
        let metadata = event.metadata
        do {
            let consumer = service
            let logger = logger
            let applied = try await database.transaction(logger: logger) { connection in
                guard try await Inbox.claim(consumer: consumer, event: metadata, on: connection, logger: logger) else { return false }
                try await event.handle(connection)
                return true
            }
            count(metadata.type, applied ? .handled : .duplicate)
            return .acknowledge
        } catch {
            return await retry(delivery, error: error, logger: logger)
        }
    }

    struct Refusal: Error {
        let reason: String
    }

    /// The event in a delivery, or why it is refused: an unknown type, an unreadable or
    /// invalid envelope, or one that is not what the broker says it is. The routing key is
    /// what the broker's permissions vouch for (a service may publish only its own events), so
    /// the envelope must name the same type, be named by the message id, and come from the
    /// service that owns its type.
    func read(_ delivery: AMQPDelivery) -> Result<EventSubscriptions.Decoded, Refusal> {
        let key = routedKey(of: delivery)
        guard let entry = subscriptions.entries[key] else { return .failure(Refusal(reason: "unknown event type \(key)")) }
        let event: EventSubscriptions.Decoded
        do {
            event = try entry.decode(delivery.body)
        } catch {
            return .failure(Refusal(reason: "unreadable or invalid event: \(Self.describe(error))"))
        }
        let metadata = event.metadata
        if !metadata.isNamed(by: delivery.messageID) { return .failure(Refusal(reason: "message_id does not match the envelope's eventId")) }
        if metadata.type != key { return .failure(Refusal(reason: "routed as \(key) but the envelope's type is \(metadata.type)")) }
        if let type = delivery.type, type != key { return .failure(Refusal(reason: "routed as \(key) but the message's type is \(type)")) }
        let owner = EventBus.owner(of: key)
        if metadata.producer != owner {
            return .failure(Refusal(reason: "\(key) belongs to \(owner), but the envelope's producer is \(metadata.producer)"))
        }
        return .success(event)
    }

    /// The routing key the event was published with: the delivery's own when it came from
    /// the shared exchange; for one moved through the service's own queues (a retry, a
    /// replay), the one the consumer recorded when it first moved it.
    func routedKey(of delivery: AMQPDelivery) -> String {
        if delivery.exchange == EventBus.exchange { return delivery.routingKey }
        return delivery.headers[EventHeader.originalRoutingKey]?.stringValue ?? delivery.routingKey
    }

    func retry(_ delivery: AMQPDelivery, error: any Error, logger: Logger) async -> AMQPDisposition {
        // The header is ours, but it arrives from the broker: anything outside the attempts
        // this consumer makes is treated as the last.
        let attempt = delivery.headers[EventHeader.attempt]?.intValue.flatMap { Int(exactly: $0) } ?? 1
        // An unreachable database is not the event's fault: that attempt does not count, so an
        // outage of any length dead-letters nothing; the event waits in a retry queue instead.
        let unavailable = DatabaseFault.isUnavailable(error)
        if unavailable, settings.retryDelays.isEmpty { return .requeue }
        guard unavailable || (attempt >= 1 && attempt <= settings.retryDelays.count) else {
            return await deadLetter(delivery, reason: "handler failed \(attempt) times: \(Self.describe(error))", logger: logger)
        }
        let delay = unavailable ? settings.retryDelays[min(1, settings.retryDelays.count - 1)] : settings.retryDelays[attempt - 1]
        var copy = outgoing(delivery)
        copy.routingKey = EventBus.retryQueue(for: service, delay: delay)
        copy.headers[EventHeader.attempt] = .int(Int64(unavailable ? max(1, attempt) : attempt + 1))
        copy.headers[EventHeader.originalRoutingKey] = .string(routedKey(of: delivery))
        logger.warning(
            "event handler failed, will retry",
            metadata: ["attempt": "\(attempt)", "retry_in": "\(delay)", "error": "\(Self.describe(error))"]
        )
        return await forward(copy, delivery: delivery, outcome: .retried)
    }

    private func deadLetter(_ delivery: AMQPDelivery, reason: String, logger: Logger) async -> AMQPDisposition {
        var copy = outgoing(delivery)
        copy.routingKey = EventBus.deadLetterQueue(for: service)
        copy.headers[EventHeader.deadLetterReason] = .string(String(reason.prefix(1000)))
        copy.headers[EventHeader.deadLetteredFrom] = .string(EventBus.queue(for: service))
        copy.headers[EventHeader.originalRoutingKey] = .string(routedKey(of: delivery))
        copy.headers[EventHeader.deadLetteredAt] = .string(Date().formatted(.iso8601))
        logger.error("event dead-lettered", metadata: ["reason": "\(reason)"])
        Counter(label: "aftercare_events_dead_lettered_total", dimensions: [("service", service)]).increment()
        return await forward(copy, delivery: delivery, outcome: .deadLettered)
    }

    /// The original is acknowledged only once the broker confirmed the copy; if the copy
    /// cannot be published, the original goes back to the queue after a pause.
    private func forward(_ copy: AMQPOutgoingMessage, delivery: AMQPDelivery, outcome: Outcome) async -> AMQPDisposition {
        do {
            _ = try await publisher.publish(copy)
            count(delivery.type ?? routedKey(of: delivery), outcome)
            return .acknowledge
        } catch {
            logger.warning("could not move the message, returning it to the queue", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            return .requeue
        }
    }

    /// A copy for the service's own direct exchange (routing key = queue name), keeping id
    /// and headers.
    private func outgoing(_ delivery: AMQPDelivery) -> AMQPOutgoingMessage {
        AMQPOutgoingMessage(
            exchange: EventBus.directExchange(for: service),
            routingKey: "",
            body: delivery.body,
            messageID: delivery.messageID ?? UUID().uuidString.lowercased(),
            type: delivery.type ?? routedKey(of: delivery),
            correlationID: delivery.correlationID,
            appID: delivery.appID,
            headers: delivery.headers
        )
    }

    func count(_ type: String, _ outcome: Outcome) {
        counters.consumed(service: service, type: type, outcome: outcome.rawValue).increment()
    }

    /// Errors as operators need them in a header: what and where, without a stack.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context): "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty ? "not JSON" : "invalid value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case is PSQLError: ErrorText.describe(error)
        default: String(describing: error)
        }
    }
}

/// Counters by label set, made once: creating a metric per event costs a registry lookup.
final class ConsumerCounters: Sendable {
    private let consumedCounters = Mutex<[String: Counter]>([:])

    func consumed(service: String, type: String, outcome: String) -> Counter {
        let key = "\(type) \(outcome)"
        return consumedCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "aftercare_events_consumed_total", dimensions: [("service", service), ("type", type), ("outcome", outcome)])
            counters[key] = counter
            return counter
        }
    }
}
