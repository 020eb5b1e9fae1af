import AftercareAMQP

/// Names and shapes on the broker, in one place: the shared topic exchange, each service's
/// queue, its retry queues and its dead-letter queue.
public enum EventBus {
    public static let exchange = "aftercare.events"

    public static func queue(for service: String) -> String { "\(service).events" }
    public static func deadLetterQueue(for service: String) -> String { "\(service).dead-letter" }
    public static func retryQueue(for service: String, delay: Duration) -> String {
        "\(service).events.retry.\(delay.components.seconds)s"
    }

    /// Publishers only need the exchange.
    public static let publisherTopology = AMQPTopology(exchanges: [.init(name: exchange, type: "topic")])

    /// A consuming service's queues: durable quorum queues; the main queue bound to every
    /// event type it consumes; one retry queue per back-off step whose messages, once their
    /// delay has passed, dead-letter back into the main queue; and a dead-letter queue for
    /// what cannot be handled. Retry queues dead-letter at-least-once, so a broker failure
    /// mid-retry cannot drop a message.
    public static func consumerTopology(service: String, eventTypes: [String], retryDelays: [Duration]) -> AMQPTopology {
        let main = queue(for: service)
        var queues: [AMQPTopology.Queue] = [
            .init(name: main, arguments: ["x-queue-type": .string("quorum")]),
            .init(name: deadLetterQueue(for: service), arguments: ["x-queue-type": .string("quorum")]),
        ]
        for delay in retryDelays {
            queues.append(.init(name: retryQueue(for: service, delay: delay), arguments: [
                "x-queue-type": .string("quorum"),
                "x-message-ttl": .int(Int64(delay.components.seconds * 1000)),
                "x-dead-letter-exchange": .string(""),
                "x-dead-letter-routing-key": .string(main),
                "x-dead-letter-strategy": .string("at-least-once"),
                "x-overflow": .string("reject-publish"),
            ]))
        }
        return AMQPTopology(
            exchanges: publisherTopology.exchanges,
            queues: queues,
            bindings: eventTypes.map { .init(queue: main, exchange: exchange, routingKey: $0) }
        )
    }
}

/// Header names Aftercare sets on messages it moves between queues.
public enum EventHeader {
    public static let aggregateID = "aggregate_id"
    public static let attempt = "x-aftercare-attempt"
    public static let deadLetterReason = "x-aftercare-reason"
    public static let deadLetteredFrom = "x-aftercare-source-queue"
    public static let originalRoutingKey = "x-aftercare-routing-key"
    public static let deadLetteredAt = "x-aftercare-dead-at"
}
