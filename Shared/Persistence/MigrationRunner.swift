import Logging
import PostgresNIO

public enum MigrationError: Error, CustomStringConvertible {
    case changedAfterApply(id: String)
    case duplicateID(String)

    public var description: String {
        switch self {
        case .changedAfterApply(let id): "migration \(id) was changed after it was applied; add a new migration instead"
        case .duplicateID(let id): "migration id \(id) is listed twice"
        }
    }
}

/// Applies a service's migrations in order, each recorded in `schema_migrations`.
/// Everything runs in one transaction under a transaction-scoped advisory lock, so two
/// replicas starting together apply each migration once, and a crash leaves no lock behind.
public struct MigrationRunner: Sendable {
    /// Arbitrary but fixed: every Aftercare service takes the same lock in its own database.
    static let advisoryLockKey: Int64 = 0x4166_7465_7263_6172

    let migrations: [Migration]
    let logger: Logger

    public init(migrations: [Migration], logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Returns the ids applied by this call (empty when the schema was already current).
    @discardableResult
    public func run(on client: PostgresClient) async throws -> [String] {
        var seen = Set<String>()
        for migration in migrations where !seen.insert(migration.id).inserted {
            throw MigrationError.duplicateID(migration.id)
        }
        let migrations = self.migrations
        let logger = self.logger
        // Schema work on a large table may take long: it is the one call without the usual
        // deadline (an hour), and without the server's statement timeout.
        return try await client.transaction(logger: logger, within: .seconds(3600)) { connection in
            try await connection.query("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    id text PRIMARY KEY,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: [String: String] = [:]
            for try await (id, checksum) in try await connection.query(
                "SELECT id, checksum FROM schema_migrations",
                logger: logger
            ).decode((String, String).self) {
                applied[id] = checksum
            }
            var newlyApplied: [String] = []
            for migration in migrations {
                if let checksum = applied[migration.id] {
                    guard checksum == migration.checksum else { throw MigrationError.changedAfterApply(id: migration.id) }
                    continue
                }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (id, checksum) VALUES (\(migration.id), \(migration.checksum))",
                    logger: logger
                )
                newlyApplied.append(migration.id)
                logger.info("applied migration", metadata: ["migration": "\(migration.id)"])
            }
            return newlyApplied
        }
    }
}
