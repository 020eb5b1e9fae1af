import AftercareContracts
import Foundation
import PostgresNIO

/// The one list of events a service consumes, with their handlers. A handler runs inside the
/// transaction that also records the event in the inbox, so its effects happen once.
public struct EventSubscriptions: Sendable {
    /// An event read once: its metadata, and its handler bound to the typed envelope.
    struct Decoded: Sendable {
        let metadata: EventMetadata
        let handle: @Sendable (PostgresConnection) async throws -> Void
    }

    struct Entry: Sendable {
        let decode: @Sendable ([UInt8]) throws -> Decoded
    }

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    public var eventTypes: [String] { entries.keys.sorted() }

    /// Subscribes to one event type. `handler` gets the decoded envelope and the connection
    /// of the open transaction; throwing rolls everything back and schedules a retry.
    public mutating func on<P: EventPayload>(
        _ type: P.Type,
        _ handler: @escaping @Sendable (EventEnvelope<P>, PostgresConnection) async throws -> Void
    ) {
        entries[P.eventType] = Entry(decode: { body in
            let envelope = try Self.decode(P.self, body)
            return Decoded(metadata: envelope.metadata, handle: { connection in try await handler(envelope, connection) })
        })
    }

    static func decode<P: EventPayload>(_ type: P.Type, _ body: [UInt8]) throws -> EventEnvelope<P> {
        let envelope = try EnvelopeReader.read(P.self, from: body)
        try envelope.payload.validate()
        return envelope
    }
}
