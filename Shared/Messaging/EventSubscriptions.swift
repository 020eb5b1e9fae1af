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
        if containsEscapedNUL(body) { throw EventValidationError("text holds a NUL character, which the database cannot store") }
        let envelope = try EnvelopeReader.read(P.self, from: body)
        try envelope.payload.validate()
        return envelope
    }

    /// Whether the JSON holds `\u0000` as an escape (not as text after an escaped backslash):
    /// PostgreSQL refuses NUL in text, so such an event could only fail its handler again and again.
    static func containsEscapedNUL(_ body: [UInt8]) -> Bool {
        let escape = Array(#"\u0000"#.utf8)
        var index = 0
        while index + escape.count <= body.count {
            if body[index] == UInt8(ascii: "\\"), body[index..<index + escape.count].elementsEqual(escape) {
                var backslashes = 0
                while index - backslashes - 1 >= 0, body[index - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
                if backslashes % 2 == 0 { return true }
            }
            index += 1
        }
        return false
    }
}
