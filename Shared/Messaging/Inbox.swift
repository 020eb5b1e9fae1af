import AftercareContracts
import Logging
import PostgresNIO

/// Remembers which events a consumer has applied, in the same transaction as the effects.
/// A redelivered event finds its row and changes nothing; the broker's redelivered flag is
/// never trusted for this (a first delivery can carry it, a duplicate may not).
public enum Inbox {
    /// True if this is the first time `consumer` sees the event; false for a duplicate.
    public static func claim(consumer: String, event: EventMetadata, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO inbox (consumer, event_id, event_type) VALUES (\(consumer), \(event.eventID), \(event.type))
            ON CONFLICT DO NOTHING RETURNING 1
            """,
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }
}
