import AftercareMessaging
import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// In the serialised exactly-once suite: every harness binds the same event type on the
/// shared exchange, so a parallel suite would receive the others' events.
extension ExactlyOnceTests {
    final class Count: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var now: Int { value.withLock { $0 } }
    }

    @Test("wake-up: an event written outside our transactions wakes the relay by NOTIFY; one committed by a transaction of ours, without one")
    func wokenByCommit() async throws {
        try await MessagingHarness.with { harness in
            // Within the test, only a wake-up publishes.
            let relay = harness.relay { $0.pollInterval = .seconds(3600) }
            let notifications = Count()
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    try await harness.client.withConnection { connection in
                        try await connection.listen(on: Outbox.notificationChannel) { sequence in for try await _ in sequence { notifications.add() }
                        }
                    }
                }
                group.addTask { try await relay.run() }
                // Outside `PostgresClient.transaction`: a NOTIFY, which also shows this LISTEN is up.
                try await waitUntil("a NOTIFY for the event written outside", timeout: .seconds(30)) {
                    if try await harness.unsentCount() == 0, notifications.now == 0 {
                        try await harness.client.withConnection { connection in
                            _ = try await harness.outbox.record(Probe(n: 1_000), aggregateID: "outside", on: connection)
                        }
                    }
                    return notifications.now >= 1
                }
                try await waitUntil("the relay published it", timeout: .seconds(30)) { try await harness.unsentCount() == 0 }
                let before = notifications.now
                try await harness.emit(3)
                try await waitUntil("the relay published the committed events", timeout: .seconds(30)) { try await harness.unsentCount() == 0 }
                #expect(notifications.now == before)
                group.cancelAll()
            }
        }
    }
}
