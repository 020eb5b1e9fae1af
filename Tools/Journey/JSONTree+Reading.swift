import AftercareRuntime
import Foundation

/// An answer's JSON as the journey reads it: `.null` for whatever is missing, so a step
/// reads `answer["callbackTask"]["id"].string`.
extension JSONTree: CustomStringConvertible {
    public static func parse(_ data: Data) -> JSONTree {
        (try? JSONDecoder().decode(JSONTree.self, from: data)) ?? .null
    }

    public subscript(key: String) -> JSONTree {
        if case .object(let fields) = self { return fields[key] ?? .null }
        return .null
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var int: Int? {
        if case .integer(let value) = self { return Int(value) }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSONTree] {
        if case .array(let values) = self { return values }
        return []
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array(let values): "[" + values.map(\.description).joined(separator: ",") + "]"
        case .object(let fields): "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        }
    }
}
