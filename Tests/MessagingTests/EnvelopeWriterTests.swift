import AftercareContracts
import Foundation
import Testing

@testable import AftercareMessaging

/// The outbox writes envelopes itself; consumers read them with `JSONDecoder`, and the stored
/// text must be exactly what `EventCoding.encoder()` gives.
@Suite("Envelope writer", .timeLimit(.minutes(1)))
struct EnvelopeWriterTests {
    struct Note: EventPayload, Equatable {
        static let eventType = "test.note/written"
        let text: String
        let at: Date
        let count: Int
        let tags: [String]?
    }

    static let awkward = [
        "", "plain", "quote \" and \\ backslash", "a/b", "line\nbreak\ttab\r", "\u{01}\u{08}\u{0C}\u{1F}\u{7F}", "中文 émoji 👍", "\u{2028}\u{2029}",
    ]

    @Test("byte for byte what JSONEncoder writes, and JSONDecoder reads it back", arguments: awkward)
    func matchesEncoder(_ text: String) throws {
        let writer = EnvelopeWriter()
        for causation in [nil, UUID()] {
            let metadata = EventMetadata(
                eventID: UUID(),
                type: Note.eventType + text,
                schemaVersion: 3,
                occurredAt: Date(timeIntervalSince1970: 1_795_000_000.125),
                producer: "svc-" + text,
                correlationID: UUID(),
                causationID: causation,
                aggregateID: "member-" + text,
                aggregateSequence: 42
            )
            let payload = Note(text: text, at: Date(), count: -7, tags: causation == nil ? nil : [text, "x"])
            let expected = String(decoding: try EventCoding.encoder().encode(EventEnvelope(metadata: metadata, payload: payload)), as: UTF8.self)
            let written = try writer.envelope(metadata, payload)
            #expect(written == expected)
            let decoded = try EventCoding.decoder().decode(EventEnvelope<Note>.self, from: Data(written.utf8))
            #expect(
                decoded.metadata.eventID == metadata.eventID && decoded.metadata.type == metadata.type
                    && decoded.metadata.aggregateID == metadata.aggregateID
            )
            #expect(decoded.payload.text == text)
        }
    }

    @Test("ids are written in lower case, as PostgreSQL prints them")
    func idText() {
        for id in (0..<1_000).map({ _ in UUID() }) + [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))] {
            #expect(EnvelopeWriter.text(id) == id.uuidString.lowercased())
        }
    }

    @Test("random ids are distinct version-4 UUIDs")
    func randomIDs() {
        let ids = EnvelopeWriter.randomIDs(10_000)
        #expect(ids.count == 10_000)
        #expect(Set(ids).count == 10_000)
        #expect(ids.allSatisfy { $0.uuid.6 >> 4 == 4 && $0.uuid.8 >> 6 == 2 })
        #expect(EnvelopeWriter.randomIDs(0).isEmpty)
    }

    @Test("event ids are version-7 UUIDs: the milliseconds first, so they sort by time, and random after")
    func timeOrderedIDs() {
        let instant = Date(timeIntervalSince1970: 1_795_443_039.5)
        let random = EnvelopeWriter.randomIDs(1_000)
        let ids = random.map { EnvelopeWriter.timeOrdered($0, at: instant) }
        #expect(Set(ids).count == 1_000)
        #expect(ids.allSatisfy { $0.uuid.6 >> 4 == 7 && $0.uuid.8 >> 6 == 2 })
        // 1,795,443,039,500 ms is 0x01A2_08BE_9D0C.
        #expect(ids.allSatisfy { EnvelopeWriter.text($0).hasPrefix("01a208be-9d0c-7") })
        #expect(zip(ids, random).allSatisfy { EnvelopeWriter.text($0).suffix(17) == EnvelopeWriter.text($1).suffix(17) })
        let later = EnvelopeWriter.timeOrdered(random[0], at: instant.addingTimeInterval(0.001))
        #expect(EnvelopeWriter.text(later) > EnvelopeWriter.text(ids[0]))
    }
}
