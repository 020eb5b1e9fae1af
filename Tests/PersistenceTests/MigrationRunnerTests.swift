import AftercarePersistence
import AftercareTestSupport
import PostgresNIO
import Testing

@Suite("Migrations on a real PostgreSQL", .timeLimit(.minutes(3)))
struct MigrationRunnerTests {
    let migrations = [
        Migration("001-members", "CREATE TABLE members (id bigserial PRIMARY KEY, phone text NOT NULL UNIQUE)"),
        Migration("002-member-name", "ALTER TABLE members ADD COLUMN name text"),
    ]

    @Test("applies each migration once, in order, and records it")
    func appliesOnce() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let runner = MigrationRunner(migrations: migrations, logger: TestEnvironment.logger)
                #expect(try await runner.run(on: client) == ["001-members", "002-member-name"])
                #expect(try await runner.run(on: client) == [])
                _ = try await client.query("INSERT INTO members (phone, name) VALUES ('13800000000', 'Li')", logger: TestEnvironment.logger)
                let ids = try await client.query("SELECT id FROM schema_migrations ORDER BY applied_at, id", logger: TestEnvironment.logger)
                    .collect().map { try $0.decode(String.self) }
                #expect(ids == ["001-members", "002-member-name"])
            }
        }
    }

    @Test("replicas starting together apply every migration exactly once")
    func concurrentRunnersApplyOnce() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                // CREATE TABLE and ALTER TABLE ADD COLUMN both fail if run twice, so six
                // runners all succeeding proves the advisory lock serialised them.
                let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                    for _ in 0..<6 {
                        group.addTask { try await MigrationRunner(migrations: migrations, logger: TestEnvironment.logger).run(on: client) }
                    }
                    return try await group.reduce(into: [String]()) { $0 += $1 }
                }
                #expect(applied.sorted() == ["001-members", "002-member-name"])
                let count = try await client.query("SELECT count(*) FROM schema_migrations", logger: TestEnvironment.logger)
                    .collect().first?.decode(Int.self)
                #expect(count == 2)
            }
        }
    }

    @Test("refuses to start when an applied migration was edited")
    func detectsEditedMigration() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                try await MigrationRunner(migrations: migrations, logger: TestEnvironment.logger).run(on: client)
                let edited = [Migration("001-members", "CREATE TABLE members (id bigserial PRIMARY KEY)"), migrations[1]]
                await #expect(throws: MigrationError.self) {
                    try await MigrationRunner(migrations: edited, logger: TestEnvironment.logger).run(on: client)
                }
            }
        }
    }

    @Test("a failing migration leaves nothing half-applied")
    func failingMigrationRollsBack() async throws {
        try await TestDatabase.with { database in
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let broken = migrations + [Migration("003-broken", "ALTER TABLE members ADD COLUMN tier text", "SELECT * FROM no_such_table")]
                await #expect(throws: (any Error).self) {
                    try await MigrationRunner(migrations: broken, logger: TestEnvironment.logger).run(on: client)
                }
                let tables = try await client.query(
                    "SELECT count(*) FROM pg_tables WHERE tablename IN ('members', 'schema_migrations')",
                    logger: TestEnvironment.logger
                )
                .collect().first?.decode(Int.self)
                #expect(tables == 0)
            }
        }
    }
}
