import AftercareMessaging
import AftercareTestSupport
import Foundation
import Synchronization
import Testing

/// The outages these tests cause reach every test that runs at the same time, so they run one
/// at a time, and alone (scripts/run-tests runs this target after all others).
@Suite("Outages, one at a time", .serialized)
struct Outages {}

extension Outages {
    // The time limit leaves room for the waits below (patience included) to run out and report
    // what they saw, instead of the limit cutting the test off with no word on why.
    @Suite("Broker outage", .timeLimit(.minutes(6)))
    struct BrokerRestartTests {
        /// Restarts the test broker with the script `scripts/run-tests` names; returns once the
        /// broker answers again, with the script's exit status (nil: it did not end in 170 s,
        /// more than its own 30 s stop and 120 s start limits).
        static func restartBroker() async throws -> Int32? {
            let control = Process()
            control.executableURL = URL(fileURLWithPath: try TestEnvironment.variable("AFTERCARE_TEST_BROKER_CTL"))
            control.arguments = ["restart"]
            try control.run()
            return await control.exitStatus(within: .seconds(170))
        }

        @Test("broker restarted while events stream through: nothing lost, nothing applied twice")
        func restartMidStream() async throws {
            try await MessagingHarness.with { harness in
                let total = 600
                let emittedSoFar = Mutex(0)
                let restartBegan = Mutex(false)
                let restart = Mutex<Int32??>(nil)
                // Producers keep committing events throughout, outage or not: half before the
                // restart, half from the moment the broker is seen gone (or, should that moment be
                // missed, back), so that events are written while it is away and must go through
                // the reconnected relay and consumer. (Without the wait, a slow restart could
                // begin after everything had been applied.)
                let emitted = Task { () -> [UUID] in
                    var ids: [UUID] = []
                    for round in 0..<30 {
                        if round == 15 {
                            while !(restartBegan.withLock { $0 } && (!harness.publisher.isConnected || restart.withLock { $0 } != nil)) {
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }
                        ids += try await harness.emit(20, perTransaction: 5)
                        emittedSoFar.withLock { $0 = ids.count }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    return ids
                }
                // What the wait saw last, for the failure message should it run out.
                let seen = Mutex("nothing yet")
                let consumer = harness.consumer()
                let done = try await running(
                    [harness.relay(), consumer],
                    until: {
                        let applied = try await harness.effects().count
                        if applied >= 120, restart.withLock({ $0 == nil }) {
                            restartBegan.withLock { $0 = true }
                            let status = try await Self.restartBroker()
                            restart.withLock { $0 = .some(status) }
                        }
                        let unsent = try await harness.unsentCount()
                        seen.withLock {
                            $0 =
                                "emitted \(emittedSoFar.withLock { $0 }), applied \(applied), unsent \(unsent), "
                                + "publisher connected \(harness.publisher.isConnected), consumer connected \(consumer.isConnected)"
                        }
                        return applied >= total && unsent == 0
                    },
                    timeout: .seconds(90)
                )
                #expect(restart.withLock { $0 } == .some(0), "the broker restart ended with \(String(describing: restart.withLock { $0 }))")
                #expect(done, "last seen of \(total): \(seen.withLock { $0 })")
                if !done { emitted.cancel() }  // it may still be waiting for a restart that never began
                let ids = try await emitted.value
                #expect(ids.count == total)
                let effects = try await harness.effects()
                #expect(Set(effects.keys) == Set(ids), "lost: \(Set(ids).subtracting(effects.keys).count)")
                #expect(effects.values.allSatisfy { $0 == 1 }, "applied twice: \(effects.filter { $0.value > 1 }.count)")
                #expect(try await harness.inboxCount() == total)
            }
        }
    }
}
