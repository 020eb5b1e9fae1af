import Foundation

/// A request body parsed once into values, so that decoding it into a request type can name
/// the field at fault for what `JSONDecoder` reports without a path (a fraction or a number
/// out of range where a whole number is expected) and can check every string on its way in.
/// Parsing itself is `JSONDecoder`'s, so what counts as JSON does not change. (The journey
/// reads answers with it too.)
public enum JSONTree: Decodable, Sendable {
    case null
    case bool(Bool)
    /// A number that fits a 64-bit integer exactly.
    case integer(Int64)
    /// Any other number: a fraction, or a whole number beyond the 64-bit range.
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONTree].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONTree].self))
        }
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "true or false"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
