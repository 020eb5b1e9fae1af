import Logging
import PostgresNIO

/// Serialises the transactions that race for one thing no row stands for yet: the requests
/// sent under one `Idempotency-Key` before the first has written its row (the later ones
/// wait here and then find it, instead of failing on the unique key), or a dealer's day of
/// slots. A transaction-scoped advisory lock on the name, held until the transaction ends.
public enum TransactionLock {
    /// What a name is the name of, so that two uses in one database never share a lock.
    public struct Space: Sendable {
        let seed: Int64
        public init(_ seed: Int64) { self.seed = seed }
    }

    /// Waits until no other transaction holds `name` in `space`, then holds it until this
    /// transaction ends.
    public static func hold(_ name: String, in space: Space, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(name), \(space.seed)))", logger: logger)
    }

    /// What `find` reads for a request sent again under `name`, or nil once this transaction
    /// holds `name` and so is the one to write it. A request already answered reads its
    /// answer without queuing for the lock: a burst of retries does not wait in line behind
    /// each other. Under the lock `find` runs again, and sees what the holder before committed.
    public static func answered<Answer>(
        _ name: String,
        in space: Space,
        on connection: PostgresConnection,
        logger: Logger,
        _ find: () async throws -> Answer?
    ) async throws -> Answer? {
        if let answer = try await find() { return answer }
        try await hold(name, in: space, on: connection, logger: logger)
        return try await find()
    }
}
