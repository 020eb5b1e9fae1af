import AftercareDeadline
import Logging
import Metrics
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
/// connection. Deliveries are handed to `handler` on `lanes` concurrent lanes; deliveries
/// with the same lane key (by default the `aggregate_id` header) share a lane, so one
/// aggregate's events are handled in order. A delivery is acknowledged only after the handler
/// returned, i.e. after its transaction committed. After a reconnect, deliveries of the old
/// connection are not acknowledged (their tags are void): the broker redelivers them and the
/// inbox makes the repeat harmless.
public final class AMQPConsumer: Service, Sendable {
    public typealias Handler = @Sendable (AMQPDelivery) async -> AMQPDisposition
    /// Handles deliveries that accumulated on a lane together; returns one disposition each.
    public typealias BatchHandler = @Sendable ([AMQPDelivery]) async -> [AMQPDisposition]

    private let session: AMQPSession
    private let queue: String
    private let prefetch: UInt16
    private let topology: AMQPTopology
    private let handler: BatchHandler
    private let maxBatch: Int
    private let linger: Duration
    private let logger: Logger
    private let unsettled = Atomic<Int>(0)
    private let isStopping = Atomic<Bool>(false)
    private let lanes: Int
    private let laneKey: @Sendable (AMQPDelivery) -> String?
    private let watermark = AckWatermark()
    private let handlerDeadline: Duration
    /// When the consumer last settled a batch (or was found idle), as nanoseconds of the
    /// continuous clock since `started`: what a watchdog compares with its patience.
    private let lastProgress = Atomic<Int64>(0)
    private let started = ContinuousClock.now
    private let laneTimeouts: Counter

    public convenience init(
        settings: AMQPSettings,
        name: String,
        queue: String,
        prefetch: UInt16 = 100,
        topology: AMQPTopology,
        lanes: Int = 1,
        laneKey: @escaping @Sendable (AMQPDelivery) -> String? = { $0.headers["aggregate_id"]?.stringValue },
        logger: Logger,
        handler: @escaping Handler
    ) {
        self.init(
            settings: settings,
            name: name,
            queue: queue,
            prefetch: prefetch,
            topology: topology,
            lanes: lanes,
            laneKey: laneKey,
            maxBatch: 1,
            logger: logger,
            batchHandler: { deliveries in
                var dispositions: [AMQPDisposition] = []
                for delivery in deliveries { dispositions.append(await handler(delivery)) }
                return dispositions
            }
        )
    }

    public init(
        settings: AMQPSettings,
        name: String,
        queue: String,
        prefetch: UInt16 = 100,
        topology: AMQPTopology,
        lanes: Int = 1,
        laneKey: @escaping @Sendable (AMQPDelivery) -> String? = { $0.headers["aggregate_id"]?.stringValue },
        maxBatch: Int,
        linger: Duration = .zero,
        handlerDeadline: Duration = .seconds(60),
        logger: Logger,
        batchHandler: @escaping BatchHandler
    ) {
        self.handlerDeadline = handlerDeadline
        self.laneTimeouts = Counter(label: "aftercare_consumer_lane_timeouts_total", dimensions: [("queue", queue)])
        self.maxBatch = max(1, maxBatch)
        self.linger = linger
        self.handler = batchHandler
        self.lanes = max(1, lanes)
        self.laneKey = laneKey
        self.session = AMQPSession(settings: settings, name: name, logger: logger)
        self.queue = queue
        self.prefetch = prefetch
        self.topology = topology
        self.logger = logger
    }

    public var isConnected: Bool { session.isConnected }

    /// Deliveries received and not yet settled.
    public var inHand: Int { unsettled.load(ordering: .relaxed) }

    /// How long since the consumer last settled a batch or was marked idle.
    public var sinceProgress: Duration {
        (ContinuousClock.now - started) - .nanoseconds(lastProgress.load(ordering: .relaxed))
    }

    /// Nothing was waiting: the time without progress starts again from now.
    public func markIdle() { recordProgress() }

    private func recordProgress() {
        let elapsed = (ContinuousClock.now - started).components
        lastProgress.store(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000, ordering: .relaxed)
    }

    /// Gives up on the deliveries in hand and starts over on a new connection: the broker
    /// redelivers them, and the inbox absorbs any whose handling still commits. For a
    /// consumer that stopped making progress. The time without progress goes on: only
    /// progress ends a stall, so one that the new connection does not cure is still reported.
    public func restart(because reason: String) {
        session.reconnect(because: reason)
    }

    public func run() async throws {
        let buffers = (0..<lanes).map { _ in DeliveryBuffer() }
        let queue = self.queue
        let prefetch = self.prefetch
        let topology = self.topology
        session.start(
            setUp: { connection in
                try connection.declare(topology)
                try connection.startConsuming(queue: queue, prefetch: prefetch)
            },
            idle: { [weak self] connection, generation in
                guard let self else { return }
                // Poll briefly while acknowledgements may be waiting to be sent.
                let wait: Duration = unsettled.load(ordering: .relaxed) > 0 ? .milliseconds(2) : .milliseconds(200)
                if let delivery = try connection.nextDelivery(timeout: wait, generation: generation) {
                    watermark.delivered(delivery.deliveryTag, generation: generation)
                    unsettled.add(1, ordering: .relaxed)
                    buffers[lane(for: delivery)].append(delivery)
                }
            }
        )
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for buffer in buffers {
                    group.addTask { [self] in
                        while var batch = await buffer.take(limit: maxBatch) {
                            // A batch short of full waits a moment for more: each batch costs
                            // the handler a transaction and a commit.
                            if linger > .zero, batch.count < maxBatch, !isStopping.load(ordering: .relaxed) {
                                try? await Task.sleep(for: linger)
                                batch += buffer.takeAvailable(limit: maxBatch - batch.count)
                            }
                            let dispositions = await handle(batch)
                            // Torn down rather than shut down: acknowledge nothing more, the
                            // broker redelivers what was in hand.
                            if Task.isCancelled { break }
                            settle(batch, dispositions)
                            // A batch given back whole (its deadline passed) moved nothing on.
                            if dispositions.contains(where: { $0 == .acknowledge }) { recordProgress() }
                            if isStopping.load(ordering: .relaxed) { break }
                        }
                    }
                }
            }
        } onGracefulShutdown: { [self] in
            // Finish the deliveries in hand, leave the rest unacknowledged for redelivery.
            isStopping.store(true, ordering: .relaxed)
            for buffer in buffers { buffer.finish() }
        }
        await session.stop()
    }

    /// The handler's dispositions, or, when it has not answered within its deadline, the
    /// batch given back to the queue: the lane carries on, and the handler is left behind
    /// (should it still commit, the inbox absorbs the redelivery).
    private func handle(_ batch: [AMQPDelivery]) async -> [AMQPDisposition] {
        do {
            return try await withDeadline(handlerDeadline, "a consumer lane's batch") { [handler] in await handler(batch) }
        } catch {
            if !(error is CancellationError) {
                laneTimeouts.increment()
                logger.error(
                    "a consumer lane's batch did not finish in time; its deliveries go back to the queue",
                    metadata: [
                        "queue": "\(queue)", "deliveries": "\(batch.count)", "deadline": "\(handlerDeadline)",
                    ]
                )
            }
            return Array(repeating: .requeue, count: batch.count)
        }
    }

    /// Closes the connection without waiting for the lanes, for a shutdown that a handler
    /// holds up: the broker puts every unacknowledged delivery back on the queue.
    public func closeConnection() async {
        await session.stop()
    }

    private func lane(for delivery: AMQPDelivery) -> Int {
        guard lanes > 1 else { return 0 }
        guard let key = laneKey(delivery) else { return Int(delivery.deliveryTag % UInt64(lanes)) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable, unlike hashValue
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int(hash % UInt64(lanes))
    }

    /// Settles a lane's batch in one job on the connection's thread: requeued deliveries are
    /// rejected at once, acknowledged ones go to the watermark, which acknowledges every
    /// settled delivery up to the oldest unsettled one with a single frame. (A job and a frame
    /// per delivery cost a closure, a lock, a wake-up and a system call each.) An ack or a
    /// reject only writes a frame, so one that fails means the connection broke, and the tags
    /// are void with it.
    private func settle(_ batch: [AMQPDelivery], _ dispositions: [AMQPDisposition]) {
        unsettled.subtract(batch.count, ordering: .relaxed)
        let watermark = self.watermark
        session.submit { connection, generation in
            var settled: [(tag: UInt64, acknowledge: Bool)] = []
            for (delivery, disposition) in zip(batch, dispositions) where delivery.connectionGeneration == generation {
                if disposition == .requeue { try connection.reject(delivery.deliveryTag, requeue: true) }
                settled.append((delivery.deliveryTag, disposition == .acknowledge))
            }
            if let upTo = watermark.settle(settled, generation: generation) { try connection.acknowledge(upTo, multiple: true) }
        }
    }
}
