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
        eventID: UUID,
        type: String,
        schemaVersion: Int,
        occurredAt: Date,
        producer: String,
        correlationID: UUID,
        causationID: UUID?,
        aggregateID: String,
        aggregateSequence: Int64
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
        case eventID = "eventId"
        case type, schemaVersion, occurredAt, producer
        case correlationID = "correlationId"
        case causationID = "causationId"
        case aggregateID = "aggregateId"
        case aggregateSequence
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

/// The instants the suite deals in: from 1900 to 2200. A date outside them is a fault in the
/// data, and binding one to PostgreSQL beyond the year 294,276 stops the process
/// (PostgresNIO converts it to microseconds unchecked), so every date that comes in (request
/// bodies and queries, event envelopes and payloads) is held to this range.
public enum PlausibleDates {
    public static let range = Date(timeIntervalSince1970: -2_208_988_800)...Date(timeIntervalSince1970: 7_258_118_400)

    public static func contains(_ date: Date) -> Bool { range.contains(date) }
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
            let date = (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
            guard let date, PlausibleDates.contains(date) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected an ISO 8601 date between 1900 and 2200, got \(text)"
                )
            }
            return date
        }
        return decoder
    }
}
