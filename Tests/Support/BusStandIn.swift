import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercareRuntime
import Foundation

/// Publishes events onto the real broker as another service's outbox relay would (envelope,
/// message id, aggregate header), for tests of a consuming service.
public struct BusStandIn: Sendable {
    /// One event ready to go.
    public struct Event: Sendable {
        public let type: String
        public let id: UUID
        public let aggregate: String
        public let body: Data

        public init(type: String, id: UUID, aggregate: String, body: Data) {
            self.type = type
            self.id = id
            self.aggregate = aggregate
            self.body = body
        }
    }

    public let broker: AMQPSettings

    public init(broker: AMQPSettings) {
        self.broker = broker
    }

    /// An envelope for `payload`, as `producer` would write it.
    public static func event<P: EventPayload>(
        _ payload: P,
        aggregate: String,
        producer: String,
        sequence: Int64 = 1,
        id: UUID = UUID()
    ) throws -> Event {
        let metadata = EventMetadata(
            eventID: id,
            type: P.eventType,
            schemaVersion: P.schemaVersion,
            occurredAt: Date(),
            producer: producer,
            correlationID: UUID(),
            causationID: nil,
            aggregateID: aggregate,
            aggregateSequence: sequence
        )
        return Event(
            type: P.eventType,
            id: id,
            aggregate: aggregate,
            body: try EventCoding.encoder().encode(EventEnvelope(metadata: metadata, payload: payload))
        )
    }

    /// Publishes payloads of one aggregate in order.
    public func publish<P: EventPayload>(_ payloads: [P], aggregate: String, producer: String) async throws {
        let events = try payloads.enumerated().map {
            try Self.event($0.element, aggregate: aggregate, producer: producer, sequence: Int64($0.offset + 1))
        }
        try await publish(events, producer: producer)
    }

    /// Publishes in order, each message until the broker confirms it. RabbitMQ 3.10 closes a
    /// publishing connection (541 INTERNAL_ERROR) when a quorum queue bound to the exchange is
    /// deleted at that moment, as parallel tests do when they finish; the publisher
    /// reconnects and the message goes again, as an outbox relay would send it (same id, so
    /// the consumer's inbox absorbs a repeat).
    public func publish(_ events: [Event], producer: String) async throws {
        let publisher = AMQPPublisher(settings: broker, name: "\(producer)-stand-in", logger: TestEnvironment.logger)
        publisher.start()
        var unsent: String?
        for event in events where unsent == nil {
            let message = AMQPOutgoingMessage(
                exchange: EventBus.exchange,
                routingKey: event.type,
                body: Array(event.body),
                messageID: event.id.uuidString.lowercased(),
                type: event.type,
                headers: [EventHeader.aggregateID: .string(event.aggregate)]
            )
            let sent = await eventually(timeout: .seconds(20)) {
                guard publisher.isConnected else { return false }
                return (try? await publisher.publish(message)) != nil
            }
            if !sent { unsent = event.type }
        }
        await publisher.shutdown()
        if let unsent { throw FixtureError(message: "could not publish \(unsent) to the broker") }
    }

    /// Removes a test service's queues (they outlive the test otherwise).
    public func deleteQueues(of service: String) async {
        await deleteServiceQueues(of: [service], broker: broker)
    }
}

/// Removes services' queues (events, retries, dead letters) from the test broker, over one
/// connection. Left behind, they collect a copy of every event bound to them, for every
/// later test run and benchmark on that broker.
public func deleteServiceQueues(of services: [String], broker: AMQPSettings) async {
    let cleaner = AMQPPublisher(settings: broker, name: "cleanup", logger: TestEnvironment.logger)
    cleaner.start()
    if !(await eventually { cleaner.isConnected }) {
        TestEnvironment.logger.warning("the clean-up publisher did not connect; service queues may stay on the test broker")
    }
    for service in services {
        for queue in EventBus.consumerTopology(service: service, eventTypes: [], retryDelays: EventConsumer.Settings().retryDelays).queues {
            try? await cleaner.deleteQueue(queue.name)
        }
    }
    await cleaner.shutdown()
}
