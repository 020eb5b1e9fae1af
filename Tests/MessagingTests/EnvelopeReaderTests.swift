import AftercareContracts
import Foundation
import Testing

@testable import AftercareMessaging

/// Consumers read envelopes with `EnvelopeReader`; it must accept, refuse and report exactly
/// what decoding the whole envelope with `EventCoding.decoder()` does.
@Suite("Envelope reader", .timeLimit(.minutes(1)))
struct EnvelopeReaderTests {
    typealias Note = EnvelopeWriterTests.Note

    /// What each way of reading makes of `body`: the envelope's fields, or the dead-letter
    /// reason the consumer would give.
    static func outcomes(_ body: [UInt8]) -> (reader: String, decoder: String) {
        func describe(_ read: () throws -> EventEnvelope<Note>) -> String {
            do {
                let envelope = try read()
                return
                    "\(envelope.metadata) \(envelope.payload.text)|\(envelope.payload.at.timeIntervalSince1970)|\(envelope.payload.count)|\(envelope.payload.tags ?? [])"
            } catch {
                return "error: " + EventDeliveryProcessor.describe(error)
            }
        }
        return (
            describe { try EnvelopeReader.read(Note.self, from: body) },
            describe { try EventCoding.decoder().decode(EventEnvelope<Note>.self, from: Data(body)) }
        )
    }

    static func envelope(_ text: String, causation: UUID? = UUID()) throws -> String {
        let metadata = EventMetadata(
            eventID: UUID(),
            type: Note.eventType,
            schemaVersion: 2,
            occurredAt: Date(timeIntervalSince1970: 1_795_000_000.125),
            producer: "svc-" + text,
            correlationID: UUID(),
            causationID: causation,
            aggregateID: "member-" + text,
            aggregateSequence: 9_000_000_001
        )
        return try EnvelopeWriter().envelope(metadata, Note(text: text, at: Date(timeIntervalSince1970: 1_700_000_000), count: -7, tags: [text]))
    }

    @Test("reads what the outbox writes, awkward strings included", arguments: EnvelopeWriterTests.awkward)
    func readsWrittenEnvelopes(_ text: String) throws {
        for causation in [nil, UUID()] {
            let body = Array(try Self.envelope(text, causation: causation).utf8)
            let (reader, decoder) = Self.outcomes(body)
            #expect(reader == decoder)
            #expect(!reader.hasPrefix("error"))
        }
    }

    static let id = "0193b2c4-1234-7abc-8def-0123456789ab"
    static let metadata =
        #""eventId":"\#(id)","type":"test.note/written","schemaVersion":1,"occurredAt":"2026-11-24T10:11:12.345Z","producer":"p","correlationId":"\#(id)","aggregateId":"a","aggregateSequence":3"#
    static let payload = #""payload":{"text":"t","at":"2026-11-24T10:11:12Z","count":1}"#

    /// Hand-written documents: other layouts, escapes, unknown keys, and every kind of fault.
    static let documents: [String] = [
        "{\(metadata),\(payload)}",
        "{\(payload),\(metadata)}",
        " \n{ \(payload.replacingOccurrences(of: ":", with: " : ")) ,\t\(metadata) } \r\n",
        "{\(metadata),\"causationId\":null,\(payload)}",
        "{\(metadata),\"causationId\":\"\(id.uppercased())\",\(payload)}",
        "{\(metadata),\"extra\":[1,-2.5e+3,true,false,null,{\"a\":[]},\"s\\\"\\u00e9\"],\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateId\":\"a\"", with: #""aggregateId":"a\u00e9\ud83d\udc4d\/\n\\""#)),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"producer\":\"p\"", with: #""producer":"p","producer":"q""#)),\(payload)}",
        // Faults.
        "", "   ", "null", "[]", "{}", "this is not JSON", "{\(metadata),\(payload)", "{\(metadata),\(payload)}x", "{\(metadata),\(payload)}{}",
        "{\(metadata),\(payload),}", "{\(metadata),\"x\":[1,],\"y\":{\"a\":1,},\(payload)}", "{\(metadata),\"x\":[,],\(payload)}",
        "{\(metadata),\"x\":{,},\(payload)}",
        "{,\(metadata),\(payload)}", "{\(metadata),,\(payload)}", "{\(metadata);\(payload)}",
        "{\(metadata),\(payload.replacingOccurrences(of: "}", with: ""))}",
        "{\(metadata)}", "{\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"eventId\":\"\(id)\",", with: "")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: ",\"aggregateSequence\":3", with: "")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"schemaVersion\":1", with: "\"schemaVersion\":\"1\"")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"schemaVersion\":1", with: "\"schemaVersion\":1.5")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateSequence\":3", with: "\"aggregateSequence\":99999999999999999999")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateSequence\":3", with: "\"aggregateSequence\":01")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateSequence\":3", with: "\"aggregateSequence\":3.0")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateSequence\":3", with: "\"aggregateSequence\":-3e2")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateSequence\":3", with: "\"aggregateSequence\":null")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"type\":\"test.note/written\"", with: "\"type\":7")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"eventId\":\"\(id)\"", with: "\"eventId\":\"not-an-id\"")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "2026-11-24T10:11:12.345Z", with: "yesterday")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateId\":\"a\"", with: "\"aggregateId\":\"a\\x\"")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateId\":\"a\"", with: "\"aggregateId\":\"a\\ud83d\"")),\(payload)}",
        "{\(metadata.replacingOccurrences(of: "\"aggregateId\":\"a\"", with: "\"aggregateId\":\"a\nb\"")),\(payload)}",
        "{\(metadata),\(payload.replacingOccurrences(of: ",\"count\":1", with: ""))}",
        "{\(metadata),\(payload.replacingOccurrences(of: "\"count\":1", with: "\"count\":\"one\""))}",
        "{\(metadata),\(payload.replacingOccurrences(of: "2026-11-24T10:11:12Z", with: "soon"))}",
        "{\(metadata),\"payload\":[]}", "{\(metadata),\"payload\":nul}",
    ]

    @Test("agrees with JSONDecoder on hand-written documents, including the reason for refusing")
    func agreesOnDocuments() {
        for document in Self.documents {
            let (reader, decoder) = Self.outcomes(Array(document.utf8))
            #expect(reader == decoder, "\(document)\n\(reader)\n\(decoder)")
        }
        #expect(Self.outcomes(Array("{\(Self.metadata),\(Self.payload)}".utf8)).reader.hasPrefix("EventMetadata"))
        // JSONDecoder allows a comma before a closing bracket; so does the reader.
        #expect(!Self.outcomes(Array("{\(Self.metadata),\(Self.payload),}".utf8)).reader.hasPrefix("error"))
    }

    @Test("agrees with JSONDecoder on every truncation and on bytes changed at random")
    func agreesOnDamage() throws {
        let body = Array(try Self.envelope("a/b \"c\" 中文").utf8)
        for end in 0..<body.count {
            let (reader, decoder) = Self.outcomes(Array(body[..<end]))
            #expect(reader.hasPrefix("error") && decoder.hasPrefix("error"), "cut at \(end)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<30_000 {
            var damaged = body
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            let (reader, decoder) = Self.outcomes(damaged)
            // Foundation's `UUID(uuidString:)` reads with `sscanf`, which takes a `+` or a
            // misplaced `-` for part of a hex number; the reader refuses such ids.
            if reader.hasPrefix("error: invalid value at") && reader.hasSuffix("Id") && !decoder.hasPrefix("error") { continue }
            // Success and refusal agree; a refusal may name a different first fault.
            #expect(reader.hasPrefix("error") == decoder.hasPrefix("error"), "\(String(decoding: damaged, as: UTF8.self))\n\(reader)\n\(decoder)")
            if !reader.hasPrefix("error") { #expect(reader == decoder) }
        }
    }

    @Test("ids in either case, nothing else")
    func ids() {
        for id in (0..<200).map({ _ in UUID() }) {
            #expect(EnvelopeReader.uuid(id.uuidString.lowercased()) == id)
            #expect(EnvelopeReader.uuid(id.uuidString.lowercased()) == id)
            #expect(
                EventMetadata(
                    eventID: id,
                    type: "t",
                    schemaVersion: 1,
                    occurredAt: Date(),
                    producer: "p",
                    correlationID: id,
                    causationID: nil,
                    aggregateID: "a",
                    aggregateSequence: 1
                )
                .isNamed(by: id.uuidString.lowercased())
            )
        }
        for text in [
            "", Self.id + "0", "9cfdb619-8fab-4637-889f-c89dba10+96e", "9cfdb619-8fab-4637-889f-c8-dba10f96e", String(Self.id.dropLast()),
            Self.id.replacingOccurrences(of: "-", with: "_"), Self.id.replacingOccurrences(of: "a", with: "g"), "{" + Self.id.dropFirst(2) + "}",
        ] {
            #expect(EnvelopeReader.uuid(text) == nil, "\(text)")
        }
    }
}
