import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import Testing

@testable import AftercareMessaging

/// The relay's claim must read only the rows it claims, even when the pending table's
/// statistics are far behind (as they are while a clearing fills it faster than autovacuum
/// looks). With the plain `position IN (…)` form, this set-up was planned as a hash join over
/// every pending row and a sort of all of them.
@Suite("Outbox relay claim", .timeLimit(.minutes(3)))
struct OutboxClaimTests {
    @Test("claims the oldest pending rows through indexes, with statistics taken when the table was nearly empty")
    func claimReadsOnlyWhatItClaims() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let logger = TestEnvironment.logger
                try await MigrationRunner(migrations: PlatformSchema.migrations, logger: logger).run(on: client)
                let setUp: [PostgresQuery] = [
                    "ALTER TABLE outbox SET (autovacuum_enabled = off)",
                    "ALTER TABLE outbox_pending SET (autovacuum_enabled = off)",
                    // Statistics taken when 100 rows were pending among many dead ones …
                    """
                    INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope)
                    SELECT gen_random_uuid(), 'test.probe.recorded', 'a', n, gen_random_uuid(), repeat('x', 500) FROM generate_series(1, 20000) AS n
                    """,
                    "INSERT INTO outbox_pending (position) SELECT position FROM outbox",
                    "DELETE FROM outbox_pending WHERE position > (SELECT min(position) + 99 FROM outbox_pending)",
                    "ANALYZE outbox_pending",
                    "ANALYZE outbox",
                    // … then a clearing's worth more.
                    """
                    INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope)
                    SELECT gen_random_uuid(), 'test.probe.recorded', 'a', 20000 + n, gen_random_uuid(), repeat('x', 500) FROM generate_series(1, 150000) AS n
                    """,
                    "INSERT INTO outbox_pending (position) SELECT position FROM outbox WHERE aggregate_sequence > 20000",
                ]
                for statement in setUp { try await client.query(statement, logger: logger) }
                let (claimed, next, reads, left) = try await client.withTransaction(logger: logger) { connection in
                    // Sequential scans per table so far. (PostgreSQL 15 counts from its last
                    // report, which may include earlier transactions: only the change counts.)
                    func sequentialScans() async throws -> [String: Int64] {
                        var scans: [String: Int64] = [:]
                        for try await (table, count) in try await connection.query(
                            "SELECT relname::text, seq_scan FROM pg_stat_xact_user_tables WHERE relname IN ('outbox', 'outbox_pending')",
                            logger: logger
                        ).decode((String, Int64).self) { scans[table] = count }
                        return scans
                    }
                    let before = try await sequentialScans()
                    let claimed = try await OutboxRelay.claimBatch(1000, on: connection, logger: logger).count
                    let next = try await OutboxRelay.claimBatch(5, on: connection, logger: logger).count
                    let reads = try await sequentialScans().merging(before) { after, before in after - before }
                    var left: [Int64] = []
                    for try await (first, count) in try await connection.query(
                        "SELECT min(aggregate_sequence), count(*)::int8 FROM outbox_pending JOIN outbox USING (position)",
                        logger: logger
                    ).decode((Int64, Int64).self) { left = [first, count] }
                    return (claimed, next, reads, left)
                }
                // Neither table was read from end to end: markers and events came through indexes.
                #expect(reads == ["outbox": 0, "outbox_pending": 0])
                // The first claim took the oldest 1,000 (sequences 1–100 and 20,001–20,900),
                // the next one the following 5.
                #expect(claimed == 1000)
                #expect(next == 5)
                #expect(left == [20_906, 150_100 - 1_005])
            }
        }
    }
}
