import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercareTestSupport
import Foundation
import Synchronization
import Testing

/// In the serialised exactly-once suite: every harness binds the same event type on the
/// shared exchange, so a parallel suite would receive the others' events.
extension ExactlyOnceTests {
    /// Holds a handler until the test opens it; the handler ignores cancellation meanwhile,
    /// as a PostgresClient transaction that never returns does.
    final class Gate: Sendable {
        private struct State {
            var entered = false
            var open = false
            var waiters: [CheckedContinuation<Void, Never>] = []
        }
        private let state = Mutex(State())

        var isEntered: Bool { state.withLock { $0.entered } }

        func pass() async {
            await withCheckedContinuation { continuation in
                let isOpen = state.withLock { state in
                    state.entered = true
                    if !state.open { state.waiters.append(continuation) }
                    return state.open
                }
                if isOpen { continuation.resume() }
            }
        }

        func open() {
            let waiters = state.withLock { state in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    @Test("shutdown: a handler that never returns does not hold the shutdown; its delivery goes back to the queue")
    func stuckHandler() async throws {
        try await MessagingHarness.with { harness in
            let gate = Gate()
            var subscriptions = EventSubscriptions()
            subscriptions.on(Probe.self) { _, _ in await gate.pass() }
            var settings = harness.consumerSettings
            settings.stopGrace = .seconds(1)
            let consumer = EventConsumer(
                service: harness.service,
                subscriptions: subscriptions,
                database: harness.client,
                publisher: harness.publisher,
                broker: harness.broker,
                settings: settings,
                logger: TestEnvironment.logger
            )
            try await harness.emit(1)
            _ = try await harness.relay().relayBatch()

            let started = ContinuousClock.now
            // Returns only once the consumer stopped after the graceful shutdown.
            #expect(try await running([consumer], until: { gate.isEntered }))
            #expect(ContinuousClock.now - started < .seconds(30))
            // The unacknowledged delivery is back on the queue for the next consumer.
            let queue = EventBus.queue(for: harness.service)
            #expect(try await eventually { try await harness.publisher.messageCount(queue: queue) == 1 })
            #expect(try await harness.inboxCount() == 0)
            gate.open()  // lets the abandoned transaction end before the database is dropped
        }
    }
}
