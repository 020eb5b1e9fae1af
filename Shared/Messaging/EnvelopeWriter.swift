import AftercareContracts
import Foundation

/// Writes envelopes for the outbox byte for byte as `EventCoding.encoder()` would (sorted
/// keys, unescaped slashes), with the metadata written directly and only the payload through
/// `JSONEncoder`. Encoding whole envelopes was about a third of the membership service's CPU
/// while it recorded a clearing's three million events; the metadata is most of an envelope.
struct EnvelopeWriter {
    let encoder = EventCoding.encoder()

    func envelope(_ metadata: EventMetadata, _ payload: some EventPayload) throws -> String {
        let payloadJSON = String(decoding: try encoder.encode(payload), as: UTF8.self)
        // The keys in sorted order, as `.sortedKeys` puts them.
        var json = "{\"aggregateId\":" + Self.quoted(metadata.aggregateID)
        json += ",\"aggregateSequence\":\(metadata.aggregateSequence)"
        if let causation = metadata.causationID { json += ",\"causationId\":\"" + Self.text(causation) + "\"" }
        json += ",\"correlationId\":\"" + Self.text(metadata.correlationID) + "\""
        json += ",\"eventId\":\"" + Self.text(metadata.eventID) + "\""
        json += ",\"occurredAt\":" + Self.quoted(metadata.occurredAt.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        json += ",\"payload\":" + payloadJSON
        json += ",\"producer\":" + Self.quoted(metadata.producer)
        json += ",\"schemaVersion\":\(metadata.schemaVersion)"
        json += ",\"type\":" + Self.quoted(metadata.type) + "}"
        return json
    }

    /// A JSON string literal, escaped as `JSONEncoder` escapes (slashes left alone).
    static func quoted(_ text: String) -> String {
        // Ids, types and names almost never need escaping: copy those whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The id in lower case (as `CanonicalIDs` has `JSONEncoder` write it) from a table:
    /// Foundation's formatting showed in the clearing's profile (`vfprintf`).
    static func text(_ id: UUID) -> String {
        withUnsafeBytes(of: id.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var at = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    out[at] = hexDigits[Int(byte >> 4)]
                    out[at + 1] = hexDigits[Int(byte & 0x0F)]
                    at += 2
                }
                return at
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Version-4 UUIDs for a batch of events from one read of the system's random source:
    /// Foundation's `UUID()` opens, reads and closes /dev/urandom for each id (~3 µs), and
    /// every event takes two.
    static func randomIDs(_ count: Int) -> [UUID] {
        guard count > 0, let source = FileHandle(forReadingAtPath: "/dev/urandom") else { return (0..<count).map { _ in UUID() } }
        defer { try? source.close() }
        guard let bytes = try? source.read(upToCount: count * 16), bytes.count == count * 16 else { return (0..<count).map { _ in UUID() } }
        return (0..<count).map { index in
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let start = bytes.startIndex + index * 16
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes[start..<start + 16]) }
            raw.6 = raw.6 & 0x0F | 0x40  // version 4
            raw.8 = raw.8 & 0x3F | 0x80  // RFC 4122 variant
            return UUID(uuid: raw)
        }
    }

    /// An event id: `random` with its first 48 bits replaced by the milliseconds since 1970
    /// (a version-7 UUID, RFC 9562). Time-ordered ids go into the outbox's unique index at
    /// its right edge; random ones each landed on a different page of an index that holds
    /// every event of the retention period.
    static func timeOrdered(_ random: UUID, at instant: Date) -> UUID {
        var raw = random.uuid
        let milliseconds = UInt64(max(0, instant.timeIntervalSince1970 * 1000))
        withUnsafeMutableBytes(of: &raw) { bytes in
            for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        }
        raw.6 = raw.6 & 0x0F | 0x70  // version 7
        raw.8 = raw.8 & 0x3F | 0x80  // RFC 4122 variant
        return UUID(uuid: raw)
    }
}
