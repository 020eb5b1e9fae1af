import AftercareMessaging
import AftercareTestSupport
import Foundation
import Testing

/// A consumer never stops for good: a handler that never returns gives its deliveries back
/// after the lane's deadline while the lane carries on, and a consumer that makes no
/// progress while messages wait is reported stalled and restarted. The test database ends a
/// transaction left idle for 2 s, as the services' `idle_in_transaction_session_timeout`
/// does, so the stuck handler's locks go with it.
@Suite("A stuck handler does not stop the consumer", .serialized, .timeLimit(.minutes(3)))
struct StalledConsumerTests {
    @Test("a handler that never returns gives its deliveries back at the lane's deadline; the lane carries on and every event applies once")
    func laneDeadline() async throws {
        try await MessagingHarness.with(idleInTransaction: .seconds(2)) { harness in
            harness.hangOnFirstAttempt.withLock { $0 = [3] }
            let ids = try await harness.emit(20, perTransaction: 20)
            try await harness.relay().relayBatch()
            let consumer = harness.consumer { $0.handlerDeadline = .seconds(1) }
            let applied = try await running([consumer], until: { try await harness.effects().count == 20 }, timeout: .seconds(60))
            let effects = try await harness.effects()
            #expect(applied, "\(effects.count) of 20 applied")
            #expect(Set(effects.keys) == Set(ids))
            #expect(effects.values.allSatisfy { $0 == 1 }, "applied twice: \(effects.filter { $0.value > 1 })")
            #expect(harness.attempts.withLock { $0.values.max() ?? 0 } >= 2, "the stuck delivery was never handled again")
        }
    }

    @Test("a consumer with messages waiting and no progress is reported stalled and restarted, then ready again once it moves")
    func stalledThenRecovered() async throws {
        try await MessagingHarness.with(idleInTransaction: .seconds(2)) { harness in
            harness.hangOnFirstAttempt.withLock { $0 = [3] }
            let ids = try await harness.emit(10, perTransaction: 10)
            try await harness.relay().relayBatch()
            let consumer = harness.consumer { settings in
                settings.handlerDeadline = .seconds(8)
                settings.stallAfter = .seconds(2)
                settings.watchEvery = .milliseconds(250)
            }
            let sawStall = SawOnce()
            let recovered = try await running([consumer], until: {
                if consumer.isStalled { sawStall.mark() }
                guard sawStall.seen, try await harness.effects().count == 10 else { return false }
                return !consumer.isStalled
            }, timeout: .seconds(90))
            let effects = try await harness.effects()
            #expect(sawStall.seen, "never reported stalled")
            #expect(recovered, "not recovered: \(effects.count) of 10, stalled \(consumer.isStalled)")
            #expect(Set(effects.keys) == Set(ids) && effects.values.allSatisfy { $0 == 1 })
        }
    }
}

final class SawOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var seen: Bool { lock.withLock { value } }
    func mark() { lock.withLock { value = true } }
}
