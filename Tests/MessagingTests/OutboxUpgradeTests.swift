import AftercareMessaging
import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import Testing

/// A database from before the pending table (sent rows marked by `sent_at`) keeps exactly its
/// unsent rows waiting for the relay after the upgrade.
@Suite("Outbox upgrade to the pending table", .timeLimit(.minutes(3)))
struct OutboxUpgradeTests {
    @Test("unsent rows stay pending, sent ones do not, and new events join them")
    func upgradeKeepsUnsentRows() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let logger = TestEnvironment.logger
                let before = PlatformSchema.migrations.prefix { $0.id != "platform-004-outbox-pending" }
                #expect(before.count == PlatformSchema.migrations.count - 2)
                try await MigrationRunner(migrations: Array(before), logger: logger).run(on: client)
                try await client.query(
                    """
                    INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope, sent_at)
                    SELECT gen_random_uuid(), 'test.probe.recorded', 'a', n, gen_random_uuid(), '{}', CASE WHEN n <= 3 THEN now() END
                    FROM generate_series(1, 5) AS n
                    """,
                    logger: logger
                )
                #expect(
                    try await MigrationRunner(migrations: PlatformSchema.migrations, logger: logger).run(on: client) == [
                        "platform-004-outbox-pending", "platform-005-outbox-pending-runs",
                    ]
                )
                let pending = try await client.query(
                    "SELECT o.aggregate_sequence FROM outbox_pending p JOIN outbox o USING (position) ORDER BY 1",
                    logger: logger
                ).collect().map { try $0.decode(Int64.self) }
                #expect(pending == [4, 5])
                _ = try await client.withTransaction(logger: logger) { connection in
                    try await Outbox(producer: "test", logger: logger).record(Probe(n: 1), aggregateID: "a", on: connection)
                }
                let count = try await client.query("SELECT count(*) FROM outbox_pending", logger: logger).collect().first?.decode(Int.self)
                #expect(count == 3)
            }
        }
    }
}
