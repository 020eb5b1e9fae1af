import AftercareDeadline
import Foundation
import Synchronization
import Testing

/// `withDeadline` is the one way the suite waits with a deadline: the answer comes in time
/// whatever the work does, including work that never ends and ignores cancellation.
@Suite("Waiting with a deadline", .timeLimit(.minutes(3)))
struct DeadlineTests {
    @Test("work that finishes in time gives its result, or its error")
    func inTime() async throws {
        #expect(try await withDeadline(.seconds(5), "adding") { 2 + 2 } == 4)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await withDeadline(.seconds(5), "refusing") { () async throws -> Int in throw Refused() } }
    }

    @Test("work that never returns, and ignores cancellation, is left behind at the deadline")
    func neverReturns() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(200), "a query on a closed connection") { () async -> Int in
                // Not cancellable: as a PostgresNIO query whose write was dropped.
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
                return 1
            }
        }
        // Far above 0.2 s so a busy machine does not fail it; far below "never".
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.description == "a query on a closed connection did not finish within 0.2 seconds")
    }

    @Test("abandoning ends the wait at once with the given error")
    func abandon() async throws {
        struct ConnectionClosed: Error {}
        let started = ContinuousClock.now
        await #expect(throws: ConnectionClosed.self) {
            try await withDeadline(.seconds(30), "a transaction") { abandon -> Int in
                abandon(ConnectionClosed())
                try await Task.sleep(for: .seconds(60))
                return 1
            }
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("cancelling the caller ends the wait at once, and cancels the work")
    func callerCancelled() async throws {
        let workCancelled = Atomic<Bool>(false)
        let waiting = Task {
            try await withDeadline(.seconds(30), "a long wait") { () async throws -> Int in
                do { try await Task.sleep(for: .seconds(60)) } catch { workCancelled.store(true, ordering: .relaxed) }
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(ContinuousClock.now - started < .seconds(5))
        try await Task.sleep(for: .milliseconds(100))
        let cancelled = workCancelled.load(ordering: .relaxed)
        #expect(cancelled)
    }
}
