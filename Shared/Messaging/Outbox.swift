import AftercareContracts
import AftercarePersistence
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
        _ payload: P,
        aggregateID: String,
        causedBy cause: EventMetadata? = nil,
        correlationID: UUID? = nil,
        occurredAt: Date = Date(),
        on connection: PostgresConnection
    ) async throws -> EventMetadata {
        let draft = try self.draft(payload, aggregateID: aggregateID, causedBy: cause, correlationID: correlationID, occurredAt: occurredAt)
        // One round trip per event. The relay is woken after the commit (`CommitWakeUps`), or
        // by a NOTIFY from the same statement when the caller's transaction is not ours.
        let rows = try await connection.query(
            """
            WITH \(writing: draft)
            SELECT outbox_written.aggregate_sequence FROM outbox_written\(unescaped: CommitWakeUps.wakeUp(Self.notificationChannel))
            """,
            logger: logger
        )
        var metadata = draft.metadata
        for try await sequence in rows.decode(Int64.self) { metadata.aggregateSequence = sequence }
        return metadata
    }

    /// An event for a statement of the caller's to write (`WITH \(writing: draft, onRowOf:)`),
    /// for a change and its event in one autocommit statement. Its sequence is 0 until the
    /// statement takes the aggregate's next number.
    public struct Draft: Sendable {
        public let metadata: EventMetadata
        let envelope: String
    }

    public func draft<P: EventPayload>(
        _ payload: P,
        aggregateID: String,
        causedBy cause: EventMetadata? = nil,
        correlationID: UUID? = nil,
        occurredAt: Date = Date()
    ) throws -> Draft {
        try payload.validate()
        let metadata = EventMetadata(
            eventID: EnvelopeWriter.timeOrdered(UUID(), at: Date()),
            type: P.eventType,
            schemaVersion: P.schemaVersion,
            occurredAt: occurredAt,
            producer: producer,
            correlationID: correlationID ?? cause?.correlationID ?? UUID(),
            causationID: cause?.eventID,
            aggregateID: aggregateID,
            aggregateSequence: 0
        )
        return Draft(metadata: metadata, envelope: try EnvelopeWriter().envelope(metadata, payload))
    }

    /// One event of a batch: its payload and the aggregate it belongs to.
    public struct Entry: Sendable {
        public let payload: any EventPayload
        public let aggregateID: String

        public init(_ payload: any EventPayload, aggregateID: String) {
            self.payload = payload
            self.aggregateID = aggregateID
        }
    }

    /// Events of one `record(batch:)` marked pending by one row: a run's positions stay
    /// stored within the row (100 × 8 bytes, well under the size PostgreSQL moves out of line),
    /// and the relay's batch of 1,000 takes ten runs.
    static let runLength = 100

    /// Appends many events in three statements, for sweeps that publish to many aggregates at
    /// once (a year-end clearing over a million members). An aggregate may have several
    /// events in a batch: they get its next sequence numbers in the order given, as
    /// consecutive `record` calls would, from one counter update per aggregate.
    public func record(batch: [Entry], occurredAt: Date = Date(), on connection: PostgresConnection) async throws {
        guard !batch.isEmpty else { return }
        for entry in batch { try entry.payload.validate() }
        var counts: [String: Int64] = [:]
        for entry in batch { counts[entry.aggregateID, default: 0] += 1 }
        let aggregates = Array(counts.keys)
        // The counter moves by the aggregate's count; its events take the numbers up to it.
        var next: [String: Int64] = [:]
        let rows = try await connection.query(
            """
            INSERT INTO outbox_aggregate_sequences (aggregate_id, last_sequence)
            SELECT a, n FROM unnest(\(aggregates)::text[], \(aggregates.map { counts[$0] ?? 1 })::int8[]) AS x(a, n)
            ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = outbox_aggregate_sequences.last_sequence + EXCLUDED.last_sequence
            RETURNING aggregate_id, last_sequence
            """,
            logger: logger
        )
        for try await (aggregate, last) in rows.decode((String, Int64).self) { next[aggregate] = last - (counts[aggregate] ?? 1) + 1 }
        var ids: [UUID] = []
        var types: [String] = []
        var correlations: [UUID] = []
        var numbers: [Int64] = []
        var envelopes: [String] = []
        let writer = EnvelopeWriter()
        let randomIDs = EnvelopeWriter.randomIDs(2 * batch.count)
        let now = Date()
        for (index, entry) in batch.enumerated() {
            let sequence = next[entry.aggregateID] ?? 1
            next[entry.aggregateID] = sequence + 1
            let metadata = EventMetadata(
                eventID: EnvelopeWriter.timeOrdered(randomIDs[2 * index], at: now),
                type: type(of: entry.payload).eventType,
                schemaVersion: type(of: entry.payload).schemaVersion,
                occurredAt: occurredAt,
                producer: producer,
                correlationID: randomIDs[2 * index + 1],
                causationID: nil,
                aggregateID: entry.aggregateID,
                aggregateSequence: sequence
            )
            ids.append(metadata.eventID)
            types.append(metadata.type)
            correlations.append(metadata.correlationID)
            numbers.append(sequence)
            envelopes.append(try writer.envelope(metadata, entry.payload))
        }
        try await connection.query(
            """
            WITH written AS (
                INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope)
                SELECT e.id, e.type, e.aggregate, e.sequence, e.correlation, e.envelope
                FROM unnest(\(ids)::uuid[], \(types)::text[], \(batch.map(\.aggregateID))::text[], \(numbers)::int8[], \(correlations)::uuid[], \(envelopes)::text[])
                    AS e(id, type, aggregate, sequence, correlation, envelope)
                RETURNING position
            )
            INSERT INTO outbox_pending (position, positions)
            SELECT min(position), array_agg(position ORDER BY position)
            FROM (SELECT position, (row_number() OVER (ORDER BY position) - 1) / \(Self.runLength) AS run FROM written) AS w
            GROUP BY run
            """,
            logger: logger
        )
        if !CommitWakeUps.ringAfterCommit(Self.notificationChannel) {
            try await connection.query("SELECT pg_notify(\(Self.notificationChannel), '')", logger: logger)
        }
    }

    /// Wakes this process's relays: for a statement that wrote an event outside a
    /// transaction (`WITH \(writing:)`), after it returned.
    public static func wakeRelays() { LocalWakeUps.ring(notificationChannel) }
}

extension PostgresQuery.StringInterpolation {
    /// Common table expressions that write `draft` to the outbox with its aggregate's next
    /// sequence (taken in the same statement), once for each row of the statement's CTE
    /// `source` (one that yields at most a row), or once when there is none. `outbox_written`
    /// answers `position` and `aggregate_sequence`. The caller wakes the relays
    /// (`Outbox.wakeRelays()`) once the statement has returned.
    public mutating func appendInterpolation(writing draft: Outbox.Draft, onRowOf source: String? = nil) {
        let metadata = draft.metadata
        appendLiteral("outbox_next AS (INSERT INTO outbox_aggregate_sequences (aggregate_id, last_sequence) SELECT ")
        appendInterpolation(metadata.aggregateID)
        appendLiteral(", 1 FROM \(source ?? "(SELECT 1) AS once")")
        appendLiteral(
            " ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = outbox_aggregate_sequences.last_sequence + 1 RETURNING last_sequence"
        )
        appendLiteral("), outbox_written AS (")
        appendLiteral("INSERT INTO outbox (event_id, event_type, aggregate_id, aggregate_sequence, correlation_id, envelope) SELECT ")
        appendInterpolation(metadata.eventID)
        appendLiteral(", ")
        appendInterpolation(metadata.type)
        appendLiteral(", ")
        appendInterpolation(metadata.aggregateID)
        appendLiteral(", outbox_next.last_sequence, ")
        appendInterpolation(metadata.correlationID)
        appendLiteral(", jsonb_set(")
        appendInterpolation(draft.envelope)
        appendLiteral("::jsonb, '{aggregateSequence}', to_jsonb(outbox_next.last_sequence))::text FROM outbox_next")
        appendLiteral(" RETURNING position, aggregate_sequence")
        appendLiteral("), outbox_pending_written AS (INSERT INTO outbox_pending (position) SELECT position FROM outbox_written)")
    }
}
