import AftercareContracts
import Foundation
import Logging
import PostgresNIO

/// Records events in the same transaction as the state change that caused them. Nothing is
/// published here: the `OutboxRelay` publishes committed rows, so an event exists on the bus
/// if and only if its transaction committed.
public struct Outbox: Sendable {
    /// Channel the relay LISTENs on; a notification is only a wake-up hint.
    public static let notificationChannel = "aftercare_outbox"

    public let producer: String
    let logger: Logger

    public init(producer: String, logger: Logger) {
        self.producer = producer
        self.logger = logger
    }

    /// Appends an event inside the caller's transaction and returns its metadata.
    /// `causedBy` carries correlation forward from the event or request that led here.
    @discardableResult
    public func record<P: EventPayload>(
        _ payload: P, aggregateID: String, causedBy cause: EventMetadata? = nil,
        correlationID: UUID? = nil, occurredAt: Date = Date(), on connection: PostgresConnection
    ) async throws -> EventMetadata {
        try payload.validate()
        let sequenceRows = try await connection.query(
            """
            INSERT INTO outbox_aggregate_sequences (aggregate_id, last_sequence) VALUES (\(aggregateID), 1)
            ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = outbox_aggregate_sequences.last_sequence + 1
            RETURNING last_sequence
            """,
            logger: logger
        )
        var sequence: Int64 = 1
        for try await value in sequenceRows.decode(Int64.self) { sequence = value }
        let metadata = EventMetadata(
            eventID: UUID(), type: P.eventType, schemaVersion: P.schemaVersion, occurredAt: occurredAt,
            producer: producer, correlationID: correlationID ?? cause?.correlationID ?? UUID(),
            causationID: cause?.eventID, aggregateID: aggregateID, aggregateSequence: sequence
        )
        let envelope = String(decoding: try EventCoding.encoder().encode(EventEnvelope(metadata: metadata, payload: payload)), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope)
            VALUES (\(metadata.eventID), \(metadata.type), \(aggregateID), \(sequence), \(metadata.correlationID), \(envelope))
            """,
            logger: logger
        )
        // Delivered at commit, and not at all on rollback: exactly when there is news.
        try await connection.query("SELECT pg_notify(\(Self.notificationChannel), '')", logger: logger)
        return metadata
    }
}
