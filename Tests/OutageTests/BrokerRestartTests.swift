import AftercareMessaging
import AftercareTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Broker outage", .timeLimit(.minutes(3)))
struct BrokerRestartTests {
    /// Restarts the test broker with the script `scripts/run-tests` names; returns once the
    /// broker answers again.
    static func restartBroker() throws -> Int32 {
        let control = Process()
        control.executableURL = URL(fileURLWithPath: try TestEnvironment.variable("AFTERCARE_TEST_BROKER_CTL"))
        control.arguments = ["restart"]
        try control.run()
        control.waitUntilExit()
        return control.terminationStatus
    }

    @Test("broker restarted while events stream through: nothing lost, nothing applied twice")
    func restartMidStream() async throws {
        try await MessagingHarness.with { harness in
            let total = 600
            // Producers keep committing events throughout, outage or not.
            let emitted = Task { () -> [UUID] in
                var ids: [UUID] = []
                for _ in 0..<30 {
                    ids += try await harness.emit(20, perTransaction: 5)
                    try await Task.sleep(for: .milliseconds(50))
                }
                return ids
            }
            let restart = Mutex<Int32?>(nil)
            let done = try await running([harness.relay(), harness.consumer()], until: {
                let applied = try await harness.effects().count
                if applied >= 120, restart.withLock({ $0 == nil }) {
                    let status = try Self.restartBroker()
                    restart.withLock { $0 = status }
                }
                guard applied >= total else { return false }
                return try await harness.unsentCount() == 0
            }, timeout: .seconds(150))
            let ids = try await emitted.value
            #expect(restart.withLock { $0 } == 0, "the broker was not restarted")
            #expect(done)
            #expect(ids.count == total)
            let effects = try await harness.effects()
            #expect(Set(effects.keys) == Set(ids), "lost: \(Set(ids).subtracting(effects.keys).count)")
            #expect(effects.values.allSatisfy { $0 == 1 }, "applied twice: \(effects.filter { $0.value > 1 }.count)")
            #expect(try await harness.inboxCount() == total)
        }
    }
}
