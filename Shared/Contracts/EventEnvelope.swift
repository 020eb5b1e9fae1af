import Foundation

/// Everything about an event except its payload: identity, ordering and tracing.
/// `eventID` is also the AMQP `message_id`.
public struct EventMetadata: Codable, Sendable, Equatable {
    public var eventID: UUID
    public var type: String
    public var schemaVersion: Int
    public var occurredAt: Date
    public var producer: String
    public var correlationID: UUID
    public var causationID: UUID?
    public var aggregateID: String
    /// 1, 2, 3… per aggregate, in the order the producer committed them.
    public var aggregateSequence: Int64

    public init(
        eventID: UUID, type: String, schemaVersion: Int, occurredAt: Date, producer: String,
        correlationID: UUID, causationID: UUID?, aggregateID: String, aggregateSequence: Int64
    ) {
        self.eventID = eventID
        self.type = type
        self.schemaVersion = schemaVersion
        self.occurredAt = occurredAt
        self.producer = producer
        self.correlationID = correlationID
        self.causationID = causationID
        self.aggregateID = aggregateID
        self.aggregateSequence = aggregateSequence
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "eventId", type, schemaVersion, occurredAt, producer
        case correlationID = "correlationId", causationID = "causationId"
        case aggregateID = "aggregateId", aggregateSequence
    }
}

/// An event as it travels: metadata and payload in one JSON object.
public struct EventEnvelope<Payload: EventPayload>: Codable, Sendable {
    public var metadata: EventMetadata
    public var payload: Payload

    public init(metadata: EventMetadata, payload: Payload) {
        self.metadata = metadata
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey { case payload }

    public init(from decoder: any Decoder) throws {
        self.metadata = try EventMetadata(from: decoder)
        self.payload = try decoder.container(keyedBy: CodingKeys.self).decode(Payload.self, forKey: .payload)
    }

    public func encode(to encoder: any Encoder) throws {
        try metadata.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(payload, forKey: .payload)
    }
}

/// The one JSON convention of the event bus: ISO 8601 UTC dates with milliseconds, sorted keys.
public enum EventCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO 8601 date, got \(text)")
        }
        return decoder
    }
}
