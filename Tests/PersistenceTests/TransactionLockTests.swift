import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import Synchronization
import Testing

@Suite("Locks on a name for one transaction", .timeLimit(.minutes(2)))
struct TransactionLockTests {
    static let space = TransactionLock.Space(99)

    @Test(
        "an answered request reads its answer while another transaction holds the name; an unanswered one waits for the holder and sees what it wrote"
    )
    func answeredSkipsTheQueue() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let logger = TestEnvironment.logger
                try await client.query("CREATE TABLE answers (name text PRIMARY KEY, answer text NOT NULL)", logger: logger)
                try await client.query("INSERT INTO answers VALUES ('sent-before', 'first')", logger: logger)
                let find: @Sendable (String, PostgresConnection) async throws -> String? = { name, connection in
                    let rows = try await connection.query("SELECT answer FROM answers WHERE name = \(name)", logger: logger)
                    return try await rows.collect().first?.decode(String.self)
                }
                let holder = try await makeConnection(url: database.url)
                defer { Task { try? await holder.close() } }
                try await holder.query("BEGIN", logger: logger)
                try await TransactionLock.hold("sent-before", in: Self.space, on: holder, logger: logger)
                try await TransactionLock.hold("new", in: Self.space, on: holder, logger: logger)

                let replayed = try await client.transaction(logger: logger, within: .seconds(10)) { connection in
                    try await TransactionLock.answered("sent-before", in: Self.space, on: connection, logger: logger) {
                        try await find("sent-before", connection)
                    }
                }
                #expect(replayed == "first")

                let finished = Atomic(false)
                let waiting = Task {
                    try await client.transaction(logger: logger, within: .seconds(30)) { connection in
                        let answer = try await TransactionLock.answered("new", in: Self.space, on: connection, logger: logger) {
                            try await find("new", connection)
                        }
                        finished.store(true, ordering: .sequentiallyConsistent)
                        return answer
                    }
                }
                try await Task.sleep(for: .seconds(1))
                let finishedEarly = finished.load(ordering: .sequentiallyConsistent)
                #expect(!finishedEarly, "an unanswered request did not wait for the holder")
                try await holder.query("INSERT INTO answers VALUES ('new', 'the holder''s')", logger: logger)
                try await holder.query("COMMIT", logger: logger)
                #expect(try await waiting.value == "the holder's")
            }
        }
    }
}
