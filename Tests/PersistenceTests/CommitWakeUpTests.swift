import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("Wake-ups after a commit", .timeLimit(.minutes(2)))
struct CommitWakeUpTests {
    struct Refused: Error {}

    @Test("a commit rings this process's listeners on the channels it asked for; a rollback does not; outside a transaction nothing is collected")
    func ringsAfterCommitOnly() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let channel = "aftercare_test_wake_\(UInt32.random(in: 0...UInt32.max))"
                let doorbell = Doorbell()
                let listener = Task { await listenForNotifications(on: channel, client: client, doorbell: doorbell, logger: TestEnvironment.logger) }
                defer { listener.cancel() }
                // The listener rings once when its LISTEN is up.
                await doorbell.wait(upTo: .seconds(30))
                #expect(!CommitWakeUps.ringAfterCommit(channel))

                try? await client.transaction(logger: TestEnvironment.logger) { _ in
                    _ = CommitWakeUps.ringAfterCommit(channel)
                    throw Refused()
                }
                let quiet = ContinuousClock.now
                await doorbell.wait(upTo: .seconds(1))
                #expect(ContinuousClock.now - quiet >= .seconds(1), "a rolled-back transaction rang")

                try await client.transaction(logger: TestEnvironment.logger) { connection in
                    #expect(CommitWakeUps.ringAfterCommit(channel))
                    try await connection.query("SELECT 1", logger: TestEnvironment.logger)
                }
                let rung = ContinuousClock.now
                await doorbell.wait(upTo: .seconds(30))
                #expect(ContinuousClock.now - rung < .seconds(30), "a committed transaction did not ring")
            }
        }
    }
}
