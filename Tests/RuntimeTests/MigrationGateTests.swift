import Foundation
import Testing

@testable import AftercareRuntime

/// The gate background work waits behind until the migrations are applied: it wakes every
/// waiter when it opens, lets later waiters straight through, and a cancelled waiter stops.
@Suite("The migration gate", .timeLimit(.minutes(1)))
struct MigrationGateTests {
    @Test("waiters wake when the gate opens; a wait after that returns at once")
    func opens() async throws {
        let gate = MigrationGate()
        let waiters = (0..<3).map { _ in Task { try await gate.wait() } }
        try await Task.sleep(for: .milliseconds(100))
        let stillWaiting = gate.waiting
        #expect(stillWaiting == 3)
        gate.open()
        for waiter in waiters { try await waiter.value }
        #expect(gate.waiting == 0)
        try await gate.wait()
    }

    @Test("a waiter whose task is cancelled stops with CancellationError, before or during the wait")
    func cancelled() async throws {
        let gate = MigrationGate()
        let during = Task { try await gate.wait() }
        try await Task.sleep(for: .milliseconds(50))
        during.cancel()
        await #expect(throws: CancellationError.self) { try await during.value }
        let before = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await gate.wait()
        }
        await #expect(throws: CancellationError.self) { try await before.value }
    }
}
