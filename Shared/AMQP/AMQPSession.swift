import Foundation
import Logging
import Metrics
import Synchronization

/// Keeps one broker connection alive on its own worker thread: connects, runs `setUp` after
/// every (re)connect (topology, confirm mode, QoS, consumers), and when the connection breaks
/// (broker restart, network cut, missed heartbeats) drops it and reconnects with back-off.
final class AMQPSession: Sendable {
    let worker: AMQPWorker
    let name: String
    private let settings: AMQPSettings
    private let logger: Logger
    private let connected = Atomic<Bool>(false)
    private let blocked: BlockedFlag
    /// Worker-thread state; the box is only read and written from jobs and the idle step.
    private let state: ThreadConfined<State>
    private let connectedGauge: Gauge
    private let reconnects: Counter

    struct State {
        var connection: AMQPConnection?
        var generation = 0
        var nextAttempt = ContinuousClock.now
        var backoff: Duration = .milliseconds(250)
        var lastError: String?
    }

    init(settings: AMQPSettings, name: String, logger: Logger) {
        self.settings = settings
        self.name = name
        self.logger = logger
        self.worker = AMQPWorker(name: "amqp-\(name)")
        self.state = ThreadConfined(State())
        self.connectedGauge = Gauge(label: "aftercare_amqp_connected", dimensions: [("connection", name)])
        self.blocked = BlockedFlag(connection: name)
        self.reconnects = Counter(label: "aftercare_amqp_connects_total", dimensions: [("connection", name)])
    }

    var isConnected: Bool { connected.load(ordering: .relaxed) }
    /// The broker blocked this connection (a memory or disk alarm) and has not unblocked it.
    var isBlocked: Bool { blocked.value }

    /// Starts the thread. `setUp` runs on every new connection; `idle` runs between jobs
    /// while connected and must return quickly.
    func start(
        setUp: @escaping @Sendable (AMQPConnection) throws -> Void,
        idle: @escaping @Sendable (AMQPConnection, Int) throws -> Void
    ) {
        // Weak: the thread must not keep its session alive (see `AMQPWorker.start`).
        worker.start { [weak self] in
            guard let self else { return false }
            if let connection = state.value.connection {
                do {
                    try idle(connection, state.value.generation)
                } catch {
                    drop(after: error)
                }
            } else {
                connectIfDue(setUp: setUp)
            }
            return true
        }
    }

    /// Runs `body` on the worker thread with the live connection. Fails with `notConnected`
    /// while the broker is away; a connection-level failure drops the connection.
    func perform<T: Sendable>(_ body: @escaping (AMQPConnection, Int) throws -> T) async throws -> T {
        try await worker.perform { [self] in
            guard let connection = state.value.connection else { throw AMQPError.notConnected }
            do {
                return try body(connection, state.value.generation)
            } catch {
                if connection.isBroken { drop(after: error) }
                throw error
            }
        }
    }

    /// Fire-and-forget variant for acknowledgements: they need no answer.
    func submit(_ body: @escaping (AMQPConnection, Int) throws -> Void) {
        worker.submit { [self] in
            guard let connection = state.value.connection else { return }
            do {
                try body(connection, state.value.generation)
            } catch {
                if connection.isBroken { drop(after: error) } else { logger.warning("AMQP call failed", metadata: ["error": "\(error)"]) }
            }
        }
    }

    /// Drops the connection and makes a new one (a consumer that made no progress): the broker
    /// puts every unacknowledged delivery of the old one back on the queue.
    func reconnect(because reason: String) {
        worker.submit { [self] in
            guard state.value.connection != nil else { return }
            drop(after: AMQPError.library(operation: "reconnect", code: 0, message: reason))
        }
    }

    func stop() async {
        await worker.stop { [self] in
            state.value.connection = nil  // deinit closes channel and connection politely
            setConnected(false)
        }
    }

    private func connectIfDue(setUp: (AMQPConnection) throws -> Void) {
        let now = ContinuousClock.now
        guard now >= state.value.nextAttempt else {
            worker.waitForWork(timeout: min(state.value.nextAttempt - now, .milliseconds(200)))
            return
        }
        do {
            let connection = try AMQPConnection(settings: settings, connectionName: name)
            connection.onBlockedChange = { [blocked, logger, name] isBlocked in
                blocked.set(isBlocked)
                if isBlocked { logger.error("the broker blocked this connection (resource alarm)", metadata: ["connection": "\(name)"]) }
            }
            try setUp(connection)
            state.value.connection = connection
            state.value.generation += 1
            state.value.backoff = .milliseconds(250)
            reconnects.increment()
            setConnected(true)
            logger.info("connected to the broker", metadata: ["broker": "\(settings.redactedDescription)", "connection": "\(name)"])
        } catch {
            let message = "\(error)"
            // Log the first failure and every change, not every retry.
            if state.value.lastError != message {
                logger.warning("broker unavailable, retrying with back-off", metadata: ["error": "\(message)", "connection": "\(name)"])
            }
            state.value.lastError = message
            state.value.nextAttempt = ContinuousClock.now + state.value.backoff
            state.value.backoff = min(state.value.backoff * 2, .seconds(10))
        }
    }

    private func drop(after error: any Error) {
        logger.warning("broker connection lost", metadata: ["error": "\(error)", "connection": "\(name)"])
        state.value.lastError = "\(error)"
        state.value.connection = nil
        state.value.nextAttempt = ContinuousClock.now
        blocked.set(false)
        setConnected(false)
    }

    private func setConnected(_ value: Bool) {
        connected.store(value, ordering: .relaxed)
        connectedGauge.record(value ? 1 : 0)
    }
}

/// Whether the broker blocked a connection, with its gauge (`aftercare_amqp_blocked`).
final class BlockedFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let gauge: Gauge

    init(connection: String) {
        gauge = Gauge(label: "aftercare_amqp_blocked", dimensions: [("connection", connection)])
        gauge.record(0)
    }

    var value: Bool { flag.load(ordering: .relaxed) }

    func set(_ value: Bool) {
        flag.store(value, ordering: .relaxed)
        gauge.record(value ? 1 : 0)
    }
}

/// State used from one thread only. The type system cannot see the worker-thread
/// confinement, so this box states it in one place instead of at every use.
final class ThreadConfined<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
