import Foundation

/// One written form for every id: lower-case UUIDs, as PostgreSQL prints them. Foundation
/// writes `UUID` in upper case, and ids travel as text too (token subjects, projections,
/// events naming a member), where an upper-case copy would not equal the lower-case one.
/// These overloads are more specific than the generic `encode`, so every synthesized
/// `Encodable` conformance in a module that imports this one writes ids in lower case:
/// responses and event payloads alike.
extension KeyedEncodingContainer {
    public mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.lowercasedString, forKey: key)
    }

    public mutating func encodeIfPresent(_ value: UUID?, forKey key: Key) throws {
        guard let value else { return }
        try encode(value.lowercasedString, forKey: key)
    }
}

/// The same for ids written into text (`"complaint-\(id)"`: aggregate ids, timer keys, log lines).
extension DefaultStringInterpolation {
    public mutating func appendInterpolation(_ id: UUID) {
        appendLiteral(id.lowercasedString)
    }
}

extension UUID {
    /// The id as it is written everywhere: lower case.
    public var lowercasedString: String { uuidString.lowercased() }

    /// `text` in the one written form when it is a UUID in any case, else unchanged: ids that
    /// arrive as text (a token's subject, a member id in a body) compare as ids.
    public static func canonical(_ text: String) -> String {
        EnvelopeReader.uuid(text)?.lowercasedString ?? text
    }
}
