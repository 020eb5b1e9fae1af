import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing

@Suite("NOTIFY-woken workers", .timeLimit(.minutes(2)))
struct NotificationWorkerTests {
    /// A worker whose loop never ends, even when cancelled: what a PostgresClient query was
    /// seen to do after its database was dropped and recreated under the running service.
    struct StuckWorker: Service {
        let client: PostgresClient
        let entered: Entered

        func run() async throws {
            await runWokenByNotifications(channel: "aftercare_test_stuck", client: client, doorbell: Doorbell(), logger: TestEnvironment.logger) {
                [entered] in
                entered.mark()
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
            }
        }
    }

    final class Entered: Sendable {
        private let state = Mutex(false)
        func mark() { state.withLock { $0 = true } }
        var isMarked: Bool { state.withLock { $0 } }
    }

    @Test("a loop that ignores cancellation does not hold the service's shutdown")
    func shutdownIsBounded() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let entered = Entered()
                let started = ContinuousClock.now
                // Returns only once the worker stopped after the graceful shutdown.
                let held = try await running([StuckWorker(client: client, entered: entered)], until: { entered.isMarked })
                #expect(held)
                #expect(ContinuousClock.now - started < .seconds(60))
            }
        }
    }
}
