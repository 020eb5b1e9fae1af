import Foundation

/// Reads a delivered envelope: its metadata straight from the bytes, and only its payload
/// through `JSONDecoder` (`EventCoding.decoder()`). Decoding the whole envelope with
/// `JSONDecoder` was the consumer's largest cost of its own (`perf`, end-to-end benchmark:
/// 7 % of the machine, about 18 µs an event, two thirds of it the metadata).
///
/// It accepts and refuses what decoding `EventEnvelope<P>` with `EventCoding.decoder()`
/// does, with the same `DecodingError`s (so dead-letter reasons read the same): a document
/// that is not one JSON object is "not JSON", a missing metadata key is `keyNotFound`, a
/// value of the wrong kind `typeMismatch`, an id or date that does not parse
/// `dataCorrupted` at its key, and the payload's own errors keep their path under `payload`.
/// Like `JSONDecoder` it allows a comma before a closing bracket. Where they differ: values
/// of keys the envelope does not know are checked for their structure only (not for valid
/// UTF-8), and ids must be hex digits in their places (Foundation's `sscanf`-based
/// `UUID(uuidString:)` also takes a `+` or a misplaced `-`).
public enum EnvelopeReader {
    public static func read<P: EventPayload>(_ type: P.Type, from body: [UInt8]) throws -> EventEnvelope<P> {
        try body.withUnsafeBufferPointer { bytes in
            var scanner = Scanner(bytes: bytes)
            guard try scanner.peek() == UInt8(ascii: "{") else {
                // Valid JSON of another kind is the wrong type, as JSONDecoder says.
                try scanner.skipValue()
                try scanner.expectEnd()
                throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: [], debugDescription: "the envelope is not an object"))
            }
            var fields = Fields()
            try scanner.object { key, scanner in try fields.read(key, &scanner) }
            try scanner.expectEnd()
            let metadata = try fields.metadata()
            guard let payloadRange = fields.payload else { throw missing(PayloadKey.payload) }
            do {
                let payload = try EventCoding.decoder().decode(P.self, from: Data(bytes[payloadRange]))
                return EventEnvelope(metadata: metadata, payload: payload)
            } catch let error as DecodingError {
                throw underPayload(error)
            }
        }
    }

    typealias MetadataKey = EventMetadata.CodingKeys
    enum PayloadKey: String, CodingKey { case payload }

    /// The metadata values as they are read, checked when the object is complete.
    struct Fields {
        var eventID: UUID?, correlationID: UUID?, causationID: UUID?
        var type: String?, producer: String?, aggregateID: String?
        var occurredAt: Date?, schemaVersion: Int?, aggregateSequence: Int64?
        var payload: Range<Int>?

        /// Reads one member. A key given twice keeps its first value, as `JSONDecoder` does.
        mutating func read(_ key: Scanner.Key, _ scanner: inout Scanner) throws {
            func named(_ name: StaticString) -> Bool {
                key.count == name.utf8CodeUnitCount && key.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            }
            if named("eventId"), eventID == nil {
                eventID = try scanner.id(for: MetadataKey.eventID)
            } else if named("correlationId"), correlationID == nil {
                correlationID = try scanner.id(for: MetadataKey.correlationID)
            } else if named("causationId"), causationID == nil {
                causationID = try scanner.isNull() ? nil : scanner.id(for: MetadataKey.causationID)
            } else if named("type"), type == nil {
                type = try scanner.string(for: MetadataKey.type)
            } else if named("producer"), producer == nil {
                producer = try scanner.string(for: MetadataKey.producer)
            } else if named("aggregateId"), aggregateID == nil {
                aggregateID = try scanner.string(for: MetadataKey.aggregateID)
            } else if named("occurredAt"), occurredAt == nil {
                occurredAt = try scanner.date(for: MetadataKey.occurredAt)
            } else if named("schemaVersion"), schemaVersion == nil {
                schemaVersion = Int(try scanner.integer(for: MetadataKey.schemaVersion))
            } else if named("aggregateSequence"), aggregateSequence == nil {
                aggregateSequence = try scanner.integer(for: MetadataKey.aggregateSequence)
            } else if named("payload"), payload == nil {
                payload = try scanner.skipValue()
            } else {
                try scanner.skipValue()
            }
        }

        func metadata() throws -> EventMetadata {
            guard let eventID else { throw missing(MetadataKey.eventID) }
            guard let type else { throw missing(MetadataKey.type) }
            guard let schemaVersion else { throw missing(MetadataKey.schemaVersion) }
            guard let occurredAt else { throw missing(MetadataKey.occurredAt) }
            guard let producer else { throw missing(MetadataKey.producer) }
            guard let correlationID else { throw missing(MetadataKey.correlationID) }
            guard let aggregateID else { throw missing(MetadataKey.aggregateID) }
            guard let aggregateSequence else { throw missing(MetadataKey.aggregateSequence) }
            return EventMetadata(
                eventID: eventID,
                type: type,
                schemaVersion: schemaVersion,
                occurredAt: occurredAt,
                producer: producer,
                correlationID: correlationID,
                causationID: causationID,
                aggregateID: aggregateID,
                aggregateSequence: aggregateSequence
            )
        }
    }

    static func missing(_ key: some CodingKey) -> DecodingError {
        .keyNotFound(key, .init(codingPath: [], debugDescription: "the envelope has no \(key.stringValue)"))
    }

    /// The payload's errors with their path under `payload`, as decoding the whole envelope
    /// reports them; a payload that is not JSON makes the envelope not JSON.
    static func underPayload(_ error: DecodingError) -> DecodingError {
        let key = PayloadKey.payload
        func moved(_ context: DecodingError.Context) -> DecodingError.Context {
            .init(codingPath: [key] + context.codingPath, debugDescription: context.debugDescription, underlyingError: context.underlyingError)
        }
        switch error {
        case .keyNotFound(let missing, let context): return .keyNotFound(missing, moved(context))
        case .typeMismatch(let type, let context): return .typeMismatch(type, moved(context))
        case .valueNotFound(let type, let context): return .valueNotFound(type, moved(context))
        case .dataCorrupted(let context) where !context.codingPath.isEmpty: return .dataCorrupted(moved(context))
        default: return error
        }
    }
}

extension EventMetadata {
    /// True when an AMQP `message_id` names this event (or there is none): the relay sets it
    /// to the event id. Compared as ids, without formatting one for every delivery.
    public func isNamed(by messageID: String?) -> Bool {
        guard let messageID else { return true }
        return EnvelopeReader.uuid(messageID) == eventID
    }
}
