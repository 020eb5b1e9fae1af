import AftercareContracts
import Foundation
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

extension Inbox {
    /// Claims many events in one statement; returns the ids seen for the first time.
    public static func claim(consumer: String, events: [EventMetadata], on connection: PostgresConnection, logger: Logger) async throws -> Set<UUID> {
        guard !events.isEmpty else { return [] }
        var fresh = Set<UUID>()
        for try await id in try await connection.execute(
            BatchClaim(consumer: consumer, ids: events.map(\.eventID), types: events.map(\.type)),
            logger: logger
        ) {
            fresh.insert(id)
        }
        return fresh
    }

    /// Prepared once per connection: every batch a consumer handles runs it, and parsing and
    /// planning it each time was a visible share of PostgreSQL's work in the end-to-end
    /// benchmark.
    struct BatchClaim: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO inbox (consumer, event_id, event_type)
            SELECT $1, id, type FROM unnest($2::uuid[], $3::text[]) AS e(id, type)
            ON CONFLICT DO NOTHING RETURNING event_id
            """
        let consumer: String
        let ids: [UUID]
        let types: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(consumer)
            bindings.append(ids)
            bindings.append(types)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> UUID { try row.decode(UUID.self) }
    }
}
