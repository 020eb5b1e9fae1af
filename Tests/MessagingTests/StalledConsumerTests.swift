import AftercareMessaging
import AftercareTestSupport
import Foundation
import Testing

// Nested in the serialized exactly-once suite: every harness's queue is bound to the probe's
// routing key, so two harness tests at once would see each other's events.
extension ExactlyOnceTests {
    /// A consumer never stops for good: a handler that never returns gives its deliveries back
    /// after the lane's deadline while the lane carries on, and a consumer that makes no
    /// progress while messages wait is reported stalled and restarted. The test database ends a
    /// consumer's transaction left idle for 5 s, as the services' `idle_in_transaction_session_timeout`
    /// does, so the stuck handler's locks go with it. Waits are bounded well inside the time
    /// limit (they are stretched threefold on a loaded machine).
    @Suite("A stuck handler does not stop the consumer", .timeLimit(.minutes(3)))
    struct StalledConsumerTests {
        @Test("a handler that never returns gives its deliveries back at the lane's deadline; the lane carries on and every event applies once")
        func laneDeadline() async throws {
            try await MessagingHarness.with(consumerIdleInTransaction: .seconds(5)) { harness in
                harness.hangOnFirstAttempt.withLock { $0 = [3] }
                let ids = try await harness.emit(20, perTransaction: 20)
                try await harness.relay().relayBatch()
                // Well above what a batch of 20 takes on a loaded machine, well below the wait.
                let consumer = harness.consumer { $0.handlerDeadline = .seconds(3) }
                let applied = try await running([consumer], until: { try await harness.effects().count == 20 }, timeout: .seconds(40))
                let effects = try await harness.effects()
                #expect(applied, "\(effects.count) of 20 applied")
                #expect(Set(effects.keys) == Set(ids))
                #expect(effects.values.allSatisfy { $0 == 1 }, "applied twice: \(effects.filter { $0.value > 1 })")
                #expect(harness.attempts.withLock { $0.values.max() ?? 0 } >= 2, "the stuck delivery was never handled again")
            }
        }

        @Test("a consumer with messages waiting and no progress is reported stalled and restarted, then ready again once it moves")
        func stalledThenRecovered() async throws {
            try await MessagingHarness.with(consumerIdleInTransaction: .seconds(5)) { harness in
                harness.hangOnFirstAttempt.withLock { $0 = [3] }
                let ids = try await harness.emit(10, perTransaction: 10)
                try await harness.relay().relayBatch()
                let consumer = harness.consumer { settings in
                    settings.handlerDeadline = .seconds(30)
                    settings.stallAfter = .seconds(3)
                    settings.watchEvery = .milliseconds(250)
                }
                let sawStall = OnceFlag()
                let recovered = try await running(
                    [consumer],
                    until: {
                        if consumer.isStalled { sawStall.set() }
                        guard sawStall.isSet, try await harness.effects().count == 10 else { return false }
                        return !consumer.isStalled
                    },
                    timeout: .seconds(40)
                )
                let effects = try await harness.effects()
                #expect(sawStall.isSet, "never reported stalled")
                #expect(recovered, "not recovered: \(effects.count) of 10, stalled \(consumer.isStalled)")
                #expect(Set(effects.keys) == Set(ids) && effects.values.allSatisfy { $0 == 1 })
            }
        }

        @Test("a lane whose batch passes its deadline again and again is reported stalled: a batch given back is not progress")
        func givenBackIsNotProgress() async throws {
            try await MessagingHarness.with(consumerIdleInTransaction: .seconds(5)) { harness in
                harness.hangAlways.withLock { $0 = [3] }
                _ = try await harness.emit(10, perTransaction: 10)
                try await harness.relay().relayBatch()
                let consumer = harness.consumer { settings in
                    settings.handlerDeadline = .seconds(1)
                    settings.stallAfter = .seconds(3)
                    settings.watchEvery = .milliseconds(250)
                }
                let stalled = try await running([consumer], until: { consumer.isStalled }, timeout: .seconds(30))
                #expect(stalled, "a lane that only gave its batch back read as making progress")
            }
        }
    }
}
