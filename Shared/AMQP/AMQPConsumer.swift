import Logging
import ServiceLifecycle
import Synchronization

/// What to do with a delivery once its handler is done.
public enum AMQPDisposition: Sendable {
    /// Handled (its effects are committed) or deliberately set aside elsewhere.
    case acknowledge
    /// Put it back on the queue for another attempt.
    case requeue
}

/// Consumes one queue with manual acknowledgements and a prefetch limit, on its own
/// connection. Each delivery is handed to `handler` in order; it is acknowledged only after
/// the handler returned, i.e. after its transaction committed. After a reconnect, deliveries
/// of the old connection are not acknowledged (their tags are void): the broker redelivers
/// them and the inbox makes the repeat harmless.
public final class AMQPConsumer: Service, Sendable {
    public typealias Handler = @Sendable (AMQPDelivery) async -> AMQPDisposition

    private let session: AMQPSession
    private let queue: String
    private let prefetch: UInt16
    private let topology: AMQPTopology
    private let handler: Handler
    private let logger: Logger
    private let unsettled = Atomic<Int>(0)

    public init(
        settings: AMQPSettings, name: String, queue: String, prefetch: UInt16 = 100,
        topology: AMQPTopology, logger: Logger, handler: @escaping Handler
    ) {
        self.session = AMQPSession(settings: settings, name: name, logger: logger)
        self.queue = queue
        self.prefetch = prefetch
        self.topology = topology
        self.handler = handler
        self.logger = logger
    }

    public var isConnected: Bool { session.isConnected }

    public func run() async throws {
        let (deliveries, continuation) = AsyncStream.makeStream(of: AMQPDelivery.self)
        let queue = self.queue, prefetch = self.prefetch, topology = self.topology
        session.start(
            setUp: { connection in
                try connection.declare(topology)
                try connection.startConsuming(queue: queue, prefetch: prefetch)
            },
            idle: { [self] connection, generation in
                // Poll briefly while acknowledgements may be waiting to be sent.
                let wait: Duration = unsettled.load(ordering: .relaxed) > 0 ? .milliseconds(2) : .milliseconds(200)
                if let delivery = try connection.nextDelivery(timeout: wait, generation: generation) {
                    unsettled.add(1, ordering: .relaxed)
                    continuation.yield(delivery)
                }
            }
        )
        let stopping = Atomic<Bool>(false)
        await withGracefulShutdownHandler {
            for await delivery in deliveries {
                let disposition = await handler(delivery)
                // Torn down rather than shut down: acknowledge nothing more, the broker
                // redelivers what was in hand.
                if Task.isCancelled { break }
                settle(delivery, disposition)
                if stopping.load(ordering: .relaxed) { break }
            }
        } onGracefulShutdown: {
            // Finish the delivery in hand, leave the rest unacknowledged for redelivery.
            stopping.store(true, ordering: .relaxed)
            continuation.finish()
        }
        await session.stop()
    }

    private func settle(_ delivery: AMQPDelivery, _ disposition: AMQPDisposition) {
        unsettled.subtract(1, ordering: .relaxed)
        session.submit { connection, generation in
            guard delivery.connectionGeneration == generation else { return }
            switch disposition {
            case .acknowledge: try connection.acknowledge(delivery.deliveryTag)
            case .requeue: try connection.reject(delivery.deliveryTag, requeue: true)
            }
        }
    }
}
