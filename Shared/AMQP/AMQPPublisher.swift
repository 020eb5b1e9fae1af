import Logging
import ServiceLifecycle

/// Publishes persistent, mandatory messages with publisher confirms on its own connection.
/// A publish returns only once the broker confirmed every message; a nack, a timeout or a
/// lost connection is an error the caller sees (and retries: consumers deduplicate).
public final class AMQPPublisher: Service, Sendable {
    private let session: AMQPSession
    private let topology: AMQPTopology
    private let confirmTimeout: Duration
    private let heartbeatSeconds: Int

    public init(settings: AMQPSettings, name: String, topology: AMQPTopology = .init(), confirmTimeout: Duration = .seconds(10), logger: Logger) {
        self.session = AMQPSession(settings: settings, name: name, logger: logger)
        self.topology = topology
        self.confirmTimeout = confirmTimeout
        self.heartbeatSeconds = settings.heartbeatSeconds
    }

    /// True while a confirmed-mode connection is open; readiness reports it.
    public var isConnected: Bool { session.isConnected }
    /// The broker blocked publishing on this connection (a resource alarm).
    public var isBlocked: Bool { session.isBlocked }

    /// Starts connecting in the background. `run()` calls it; callers that publish without
    /// a service group (tools, tests) call it themselves.
    public func start() {
        let topology = self.topology
        // Idle: sleep until work arrives, but wake often enough to answer heartbeats.
        let idleWait = Duration.milliseconds(min(1000, heartbeatSeconds * 250))
        session.start(
            setUp: { connection in
                try connection.declare(topology)
                try connection.enablePublisherConfirms()
            },
            idle: { [weak session] connection, _ in
                session?.worker.waitForWork(timeout: idleWait)
                try connection.serviceHeartbeats()
            }
        )
    }

    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await session.stop()
    }

    public func shutdown() async {
        await session.stop()
    }

    /// Publishes a batch and waits for the broker's confirms of all of it.
    public func publish(_ messages: [AMQPOutgoingMessage]) async throws -> [AMQPPublishOutcome] {
        guard !messages.isEmpty else { return [] }
        let timeout = confirmTimeout
        return try await session.perform { connection, _ in
            var tags = Set<UInt64>()
            for message in messages { tags.insert(try connection.publish(message)) }
            let (nacked, returned) = try connection.awaitConfirms(for: tags, timeout: timeout)
            guard nacked.isEmpty else { throw AMQPError.publishNacked }
            return messages.map { returned.contains($0.messageID) ? .unroutable : .confirmed }
        }
    }

    public func publish(_ message: AMQPOutgoingMessage) async throws -> AMQPPublishOutcome {
        try await publish([message])[0]
    }

    // MARK: Operator and test helpers on the same connection

    /// Messages ready in a queue.
    public func messageCount(queue: String) async throws -> Int {
        try await session.perform { connection, _ in Int(try connection.messageCount(queue: queue)) }
    }

    /// Moves up to `limit` messages from a queue to `exchange` with `routingKey`, each
    /// acknowledged at the source only after the broker confirmed it at the target. Used to
    /// replay dead letters. `transform` may rewrite the message (e.g. reset headers).
    public func move(
        from source: String,
        to exchange: String,
        routingKey: String,
        limit: Int,
        transform: @escaping @Sendable (AMQPDelivery) -> AMQPOutgoingMessage
    ) async throws -> Int {
        let timeout = confirmTimeout
        return try await session.perform { connection, generation in
            var moved = 0
            while moved < limit, let delivery = try connection.get(queue: source, generation: generation) {
                var message = transform(delivery)
                message.exchange = exchange
                message.routingKey = routingKey
                let tag = try connection.publish(message)
                let (nacked, _) = try connection.awaitConfirms(for: [tag], timeout: timeout)
                guard nacked.isEmpty else {
                    try connection.reject(delivery.deliveryTag, requeue: true)
                    throw AMQPError.publishNacked
                }
                try connection.acknowledge(delivery.deliveryTag)
                moved += 1
            }
            return moved
        }
    }

    /// Reads up to `limit` messages and puts them back (for listing a dead-letter queue).
    /// Requeued messages keep their place at the head, so the listing is non-destructive.
    public func peek(queue: String, limit: Int) async throws -> [AMQPDelivery] {
        try await session.perform { connection, generation in
            var seen: [AMQPDelivery] = []
            while seen.count < limit, let delivery = try connection.get(queue: queue, generation: generation) {
                seen.append(delivery)
            }
            // Rejecting with requeue in reverse order restores the original order.
            for delivery in seen.reversed() { try connection.reject(delivery.deliveryTag, requeue: true) }
            return seen
        }
    }

    public func deleteQueue(_ queue: String) async throws {
        try await session.perform { connection, _ in try connection.deleteQueue(queue) }
    }

    /// Declares extra topology on the live connection (tests, tools).
    public func declare(_ topology: AMQPTopology) async throws {
        try await session.perform { connection, _ in try connection.declare(topology) }
    }
}
