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
        // The envelope is written with sequence 0 and gets the aggregate's next number in the
        // same statement that takes it, together with the wake-up NOTIFY (delivered at
        // commit, not at all on rollback): one round trip per event.
        let draft = EventMetadata(
            eventID: UUID(), type: P.eventType, schemaVersion: P.schemaVersion, occurredAt: occurredAt,
            producer: producer, correlationID: correlationID ?? cause?.correlationID ?? UUID(),
            causationID: cause?.eventID, aggregateID: aggregateID, aggregateSequence: 0
        )
        let envelope = String(decoding: try EventCoding.encoder().encode(EventEnvelope(metadata: draft, payload: payload)), as: UTF8.self)
        let rows = try await connection.query(
            """
            WITH next AS (
                INSERT INTO outbox_aggregate_sequences (aggregate_id, last_sequence) VALUES (\(aggregateID), 1)
                ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = outbox_aggregate_sequences.last_sequence + 1
                RETURNING last_sequence
            ), written AS (
                INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope)
                SELECT \(draft.eventID), \(draft.type), \(aggregateID), next.last_sequence, \(draft.correlationID),
                       jsonb_set(\(envelope)::jsonb, '{aggregateSequence}', to_jsonb(next.last_sequence))::text
                FROM next
                RETURNING aggregate_sequence
            )
            SELECT written.aggregate_sequence FROM written, (SELECT pg_notify(\(Self.notificationChannel), '')) AS wake
            """,
            logger: logger
        )
        var metadata = draft
        for try await sequence in rows.decode(Int64.self) { metadata.aggregateSequence = sequence }
        return metadata
    }

    /// Appends one event per aggregate in three statements, for sweeps that publish to many
    /// aggregates at once (a year-end clearing over a million members). Aggregate ids must be
    /// distinct; each event gets its aggregate's next sequence number as with `record`.
    public func record<P: EventPayload>(
        batch: [(payload: P, aggregateID: String)], occurredAt: Date = Date(), on connection: PostgresConnection
    ) async throws {
        guard !batch.isEmpty else { return }
        for item in batch { try item.payload.validate() }
        let aggregates = batch.map(\.aggregateID)
        precondition(Set(aggregates).count == aggregates.count, "one event per aggregate in a batch")
        var sequences: [String: Int64] = [:]
        let rows = try await connection.query(
            """
            INSERT INTO outbox_aggregate_sequences (aggregate_id, last_sequence) SELECT a, 1 FROM unnest(\(aggregates)::text[]) AS a
            ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = outbox_aggregate_sequences.last_sequence + 1
            RETURNING aggregate_id, last_sequence
            """,
            logger: logger
        )
        for try await (aggregate, sequence) in rows.decode((String, Int64).self) { sequences[aggregate] = sequence }
        var ids: [UUID] = [], correlations: [UUID] = [], numbers: [Int64] = [], envelopes: [String] = []
        let encoder = EventCoding.encoder()
        for item in batch {
            let metadata = EventMetadata(
                eventID: UUID(), type: P.eventType, schemaVersion: P.schemaVersion, occurredAt: occurredAt, producer: producer,
                correlationID: UUID(), causationID: nil, aggregateID: item.aggregateID, aggregateSequence: sequences[item.aggregateID] ?? 1
            )
            ids.append(metadata.eventID)
            correlations.append(metadata.correlationID)
            numbers.append(metadata.aggregateSequence)
            envelopes.append(String(decoding: try encoder.encode(EventEnvelope(metadata: metadata, payload: item.payload)), as: UTF8.self))
        }
        try await connection.query(
            """
            INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope)
            SELECT e.id, \(P.eventType), e.aggregate, e.sequence, e.correlation, e.envelope
            FROM unnest(\(ids)::uuid[], \(aggregates)::text[], \(numbers)::int8[], \(correlations)::uuid[], \(envelopes)::text[])
                AS e(id, aggregate, sequence, correlation, envelope)
            """,
            logger: logger
        )
        try await connection.query("SELECT pg_notify(\(Self.notificationChannel), '')", logger: logger)
    }
}
