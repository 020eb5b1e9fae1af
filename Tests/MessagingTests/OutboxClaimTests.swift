@testable import AftercareMessaging
import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import Testing

/// The relay's claim must read only the rows it claims, even when the pending table's
/// statistics are far behind (as they are while a clearing fills it faster than autovacuum
/// looks). With the plain `position IN (…)` form, this set-up was planned as a hash join over
/// every pending row and a sort of all of them.
@Suite("Outbox relay claim")
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
                let claim = OutboxRelay.claim(1000)
                let (plan, claimed, left) = try await client.withTransaction(logger: logger) { connection in
                    try await connection.query(OutboxRelay.claimPlanning, logger: logger)
                    let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + claim.sql, binds: claim.binds)
                    let plan = try await connection.query(explain, logger: logger).collect().map { try $0.decode(String.self) }.joined()
                    let claimed = try await connection.query(OutboxRelay.claim(5), logger: logger).collect().count
                    var left: [Int64] = []
                    for try await (first, count) in try await connection.query(
                        "SELECT min(aggregate_sequence), count(*)::int8 FROM outbox_pending JOIN outbox USING (position)", logger: logger
                    ).decode((Int64, Int64).self) { left = [first, count] }
                    return (plan, claimed, left)
                }
                #expect(!plan.contains("Seq Scan"), "plan: \(plan)")
                #expect(!plan.contains("Hash"), "plan: \(plan)")
                // The analysed claim took the oldest 1,000 (sequences 1–100 and 20,001–20,900),
                // the next claim the following 5.
                #expect(plan.contains("\"Actual Rows\": 1000"))
                #expect(claimed == 5)
                #expect(left == [20_906, 150_100 - 1_005])
            }
        }
    }
}
