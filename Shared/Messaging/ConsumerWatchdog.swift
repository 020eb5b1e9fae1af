import AftercareAMQP
import AftercareDeadline
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Watches a consumer for the one failure its own deadlines cannot see: no progress while
/// messages wait (deliveries in hand, or ready on its queue). It then says so (readiness, the
/// `aftercare_consumer_stalled` gauge, an error log) and restarts the consumer on a new
/// connection (`aftercare_consumer_restarts_total`); the broker redelivers what was in hand.
/// A consumer with nothing to do is never stalled.
final class ConsumerWatchdog: Sendable {
    private let consumer: AMQPConsumer
    private let publisher: AMQPPublisher
    private let queue: String
    private let patience: Duration
    private let every: Duration
    private let logger: Logger
    private let waiting = Atomic<Bool>(false)
    private let restartedAt = Mutex<ContinuousClock.Instant?>(nil)
    private let stalledGauge: Gauge
    private let restarts: Counter
    private let restartTally = Atomic<Int>(0)

    init(consumer: AMQPConsumer, publisher: AMQPPublisher, queue: String, patience: Duration, every: Duration, logger: Logger) {
        self.consumer = consumer
        self.publisher = publisher
        self.queue = queue
        self.patience = patience
        self.every = every
        self.logger = logger
        self.stalledGauge = Gauge(label: "aftercare_consumer_stalled", dimensions: [("queue", queue)])
        self.restarts = Counter(label: "aftercare_consumer_restarts_total", dimensions: [("queue", queue)])
        stalledGauge.record(0)
    }

    /// How often this watchdog restarted its consumer.
    var restartCount: Int { restartTally.load(ordering: .relaxed) }

    /// Messages wait and the consumer has made no progress for longer than its patience.
    var isStalled: Bool {
        consumer.isConnected && waiting.load(ordering: .relaxed) && consumer.sinceProgress > patience
    }

    /// Checks every `every` until cancelled or shutdown begins.
    func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            guard (try? await Task.sleep(for: every)) != nil else { return }
            await check()
        }
    }

    func check() async {
        guard consumer.isConnected, !Task.isShuttingDownGracefully else { return }
        // The broker's answer has its own short deadline: a blocked or slow broker must not
        // hold the watchdog. A depth it could not learn is not an empty queue: what was seen
        // last stands, and the time without progress goes on.
        let ready = try? await withDeadline(.seconds(2), "the queue's depth") { [publisher, queue] in
            try await publisher.messageCount(queue: queue)
        }
        let messagesWait = consumer.inHand > 0 || ready.map { $0 > 0 } ?? waiting.load(ordering: .relaxed)
        waiting.store(messagesWait, ordering: .relaxed)
        if !messagesWait { consumer.markIdle() }
        let stalled = isStalled
        stalledGauge.record(stalled ? 1 : 0)
        guard stalled, mayRestart() else { return }
        restarts.increment()
        restartTally.add(1, ordering: .relaxed)
        logger.error(
            "the consumer made no progress while messages waited; restarting it on a new connection",
            metadata: [
                "queue": "\(queue)", "in_hand": "\(consumer.inHand)", "ready": "\(ready.map(String.init) ?? "unknown")",
                "without_progress": "\(consumer.sinceProgress)",
            ]
        )
        consumer.restart(because: "no progress for \(consumer.sinceProgress) while messages waited")
    }

    /// At most one restart per `patience`: a consumer restarted a moment ago needs time to
    /// get going again.
    private func mayRestart() -> Bool {
        restartedAt.withLock { last in
            if let last, ContinuousClock.now - last < patience { return false }
            last = .now
            return true
        }
    }
}
