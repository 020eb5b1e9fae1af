import Foundation

/// Decodes a request type from a `JSONTree`, holding every value to what the database and
/// the people who read it can take: whole numbers that fit their Swift type, strings without
/// NUL or other control characters (line breaks only in the fields a type names), at most
/// `maxTextLength` characters, dates in ISO 8601. A value that breaks a rule is a
/// `FieldRuleViolation` naming its JSON path, so the caller gets a 422 for that field rather
/// than a 500 from PostgreSQL or "not valid JSON".
struct RequestBodyDecoder {
    /// Longer than any field of the API allows; the types' own rules are stricter.
    static let maxTextLength = 10_000

    /// Keys (the last component of a path, e.g. `note`) whose strings may hold line breaks.
    var multilineKeys: Set<String> = []

    func decode<T: Decodable>(_ type: T.Type, from tree: JSONTree) throws -> T {
        try TreeDecoder(tree: tree, codingPath: [], rules: self).decode(type)
    }

    func checkedText(_ text: String, at path: [any CodingKey]) throws -> String {
        let multiline = path.last.map { multilineKeys.contains($0.stringValue) } ?? false
        for scalar in text.unicodeScalars where Self.isControl(scalar) {
            if multiline && (scalar == "\n" || scalar == "\r" || scalar == "\t") { continue }
            let allowed = multiline ? " other than line breaks and tabs" : ""
            throw FieldRuleViolation(path: path, message: "must not contain control characters\(allowed)")
        }
        if text.unicodeScalars.count > Self.maxTextLength {
            throw FieldRuleViolation(path: path, message: "must be at most \(Self.maxTextLength) characters")
        }
        return text
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}

/// A value that decodes but breaks a rule every request field keeps.
struct FieldRuleViolation: Error {
    let path: [any CodingKey]
    let message: String
}

struct TreeKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

private struct TreeDecoder: Decoder {
    let tree: JSONTree
    let codingPath: [any CodingKey]
    let rules: RequestBodyDecoder
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = tree else { throw mismatch([String: Any].self, "an object") }
        return KeyedDecodingContainer(KeyedTree<Key>(members: members, codingPath: codingPath, rules: rules))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = tree else { throw mismatch([Any].self, "an array") }
        return UnkeyedTree(elements: elements, codingPath: codingPath, rules: rules)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ type: Any.Type, _ expected: String) -> DecodingError {
        if case .null = tree { return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "null where \(expected) is expected")) }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "\(tree.kind) where \(expected) is expected"))
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Date.self, let date = try decodeDate() as? T { return date }
        if type == Decimal.self, let number = try decodeDecimal() as? T { return number }
        return try T(from: self)
    }

    private func decodeDate() throws -> Date {
        let text = try decode(String.self)
        if let date = ISO8601.date(text) { return date }
        throw FieldRuleViolation(path: codingPath, message: "must be an ISO 8601 date-time between 1900 and 2200, such as 2026-03-01T09:30:00Z")
    }

    private func decodeDecimal() throws -> Decimal {
        switch tree {
        case .integer(let value): return Decimal(value)
        case .number(let value): return Decimal(value)
        default: throw mismatch(Decimal.self, "a number")
        }
    }

    /// Any fixed-width integer: a whole number within the type's range, else a rule violation.
    func wholeNumber<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        switch tree {
        case .integer(let value):
            if let exact = T(exactly: value) { return exact }
        case .number(let value) where value.rounded() != value || !value.isFinite:
            throw FieldRuleViolation(path: codingPath, message: "must be a whole number")
        case .number: break
        default: throw mismatch(type, "a whole number")
        }
        throw FieldRuleViolation(path: codingPath, message: "must be a whole number between \(T.min) and \(T.max)")
    }
}

extension TreeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = tree { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let value) = tree else { throw mismatch(type, "true or false") }
        return value
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let value) = tree else { throw mismatch(type, "a string") }
        return try rules.checkedText(value, at: codingPath)
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch tree {
        case .integer(let value): return Double(value)
        case .number(let value) where value.isFinite: return value
        case .number: throw FieldRuleViolation(path: codingPath, message: "must be a finite number")
        default: throw mismatch(type, "a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try wholeNumber(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try wholeNumber(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try wholeNumber(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try wholeNumber(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try wholeNumber(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try wholeNumber(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try wholeNumber(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try wholeNumber(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try wholeNumber(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try wholeNumber(type) }
}

private struct KeyedTree<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONTree]
    let codingPath: [any CodingKey]
    let rules: RequestBodyDecoder

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func child(_ key: Key) throws -> TreeDecoder {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing \(key.stringValue)"))
        }
        return TreeDecoder(tree: value, codingPath: codingPath + [key], rules: rules)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).decodeNil() }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { TreeDecoder(tree: .object(members), codingPath: codingPath, rules: rules) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedTree: UnkeyedDecodingContainer {
    let elements: [JSONTree]
    let codingPath: [any CodingKey]
    let rules: RequestBodyDecoder
    var currentIndex = 0

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> TreeDecoder {
        let key = TreeKey(intValue: currentIndex)
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [key], debugDescription: "the array has no more elements"))
        }
        defer { currentIndex += 1 }
        return TreeDecoder(tree: elements[currentIndex], codingPath: codingPath + [key], rules: rules)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next().decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}
