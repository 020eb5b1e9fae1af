import AftercareAMQP

/// Names and shapes on the broker, in one place: the shared topic exchange, each service's
/// queue, its retry queues and its dead-letter queue, and the service's own direct exchange
/// through which it moves messages between its queues.
///
/// Every name a service owns starts with `<service>.`, which is what its broker user may
/// configure, write and read (see docs/operations.md, "Broker permissions"); it may publish
/// to `aftercare.events` only routing keys of its own events and bind only the event types it
/// consumes. No service may publish to the default exchange, which reaches every queue.
public enum EventBus {
    public static let exchange = "aftercare.events"

    /// The service's direct exchange: retries, dead letters and replays go through it, each
    /// of its queues bound by its own name.
    public static func directExchange(for service: String) -> String { "\(service).direct" }

    /// The service that owns an event type: its first segment (`membership.member.registered`).
    public static func owner(of eventType: String) -> Substring { eventType.prefix { $0 != "." } }

    public static func queue(for service: String) -> String { "\(service).events" }
    public static func deadLetterQueue(for service: String) -> String { "\(service).dead-letter" }
    public static func retryQueue(for service: String, delay: Duration) -> String {
        "\(service).events.retry.\(delay.components.seconds)s"
    }

    /// Publishers only need the exchange, which the broker's provisioning declares: a service
    /// checks that it exists but may not declare (and so may not delete) it.
    public static let publisherTopology = AMQPTopology(exchanges: [.init(name: exchange, type: "topic", passive: true)])

    /// A consuming service's queues: durable quorum queues; the main queue bound to every
    /// event type it consumes; one retry queue per back-off step whose messages, once their
    /// delay has passed, dead-letter back into the main queue; and a dead-letter queue for
    /// what cannot be handled. Retry queues dead-letter at-least-once, so a broker failure
    /// mid-retry cannot drop a message.
    public static func consumerTopology(service: String, eventTypes: [String], retryDelays: [Duration]) -> AMQPTopology {
        let main = queue(for: service)
        let direct = directExchange(for: service)
        var queues: [AMQPTopology.Queue] = [
            .init(name: main, arguments: ["x-queue-type": .string("quorum")]),
            .init(name: deadLetterQueue(for: service), arguments: ["x-queue-type": .string("quorum")]),
        ]
        for delay in retryDelays {
            queues.append(
                .init(
                    name: retryQueue(for: service, delay: delay),
                    arguments: [
                        "x-queue-type": .string("quorum"),
                        "x-message-ttl": .int(Int64(delay.components.seconds * 1000)),
                        "x-dead-letter-exchange": .string(direct),
                        "x-dead-letter-routing-key": .string(main),
                        "x-dead-letter-strategy": .string("at-least-once"),
                        "x-overflow": .string("reject-publish"),
                    ]
                )
            )
        }
        return AMQPTopology(
            exchanges: publisherTopology.exchanges + [.init(name: direct, type: "direct")],
            queues: queues,
            bindings: eventTypes.map { .init(queue: main, exchange: exchange, routingKey: $0) }
                + queues.map { .init(queue: $0.name, exchange: direct, routingKey: $0.name) }
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
