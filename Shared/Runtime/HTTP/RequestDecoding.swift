import Foundation
import Hummingbird

/// A request body that can say which of its fields are invalid beyond their JSON types.
public protocol ValidatedRequest: Decodable {
    func validate() -> [FieldProblem]
    /// Keys whose text may span lines (a note, a description); every other string is one line.
    static var multilineKeys: Set<String> { get }
}

extension ValidatedRequest {
    public static var multilineKeys: Set<String> { [] }
}

extension Request {
    /// Decodes a JSON body: unparseable JSON is a 400; a missing field, a wrong type, a
    /// number that does not fit its field, text the database cannot hold (see
    /// `RequestBodyDecoder`) or a failed `validate()` is a 422 naming every field at fault.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        var request = self
        let buffer = try await request.collectBody(upTo: .max)
        let tree: JSONTree
        do {
            tree = try JSONDecoder().decode(JSONTree.self, from: buffer)
        } catch {
            throw ProblemDetails.badRequest("The request body is not valid JSON.")
        }
        let rules = RequestBodyDecoder(multilineKeys: (T.self as? any ValidatedRequest.Type)?.multilineKeys ?? [])
        let value: T
        do {
            value = try rules.decode(T.self, from: tree)
        } catch let error as DecodingError {
            throw Self.problem(for: error)
        } catch let violation as FieldRuleViolation {
            throw ProblemDetails.validation(field: Self.path(violation.path), violation.message)
        }
        if let validated = value as? any ValidatedRequest {
            let problems = validated.validate()
            if !problems.isEmpty { throw ProblemDetails.validation(problems) }
        }
        return value
    }

    static func problem(for error: DecodingError) -> ProblemDetails {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .validation(field: "(body)", "has an invalid value")
        case .dataCorrupted(let context):
            return .validation(field: path(context.codingPath), "has an invalid value")
        case .keyNotFound(let key, let context):
            return .validation(field: path(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            return .validation(field: path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            return .validation(field: path(context.codingPath), "must be \(describe(type))")
        @unknown default:
            return .badRequest("The request body could not be read.")
        }
    }

    /// `items[0].amount` style paths, as a client would write them.
    static func path(_ codingPath: [any CodingKey]) -> String {
        guard !codingPath.isEmpty else { return "(body)" }
        var result = ""
        for key in codingPath {
            if let index = key.intValue { result += "[\(index)]" } else { result += result.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return result
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
        case is Double.Type, is Decimal.Type: "a number"
        case is Bool.Type: "true or false"
        default: "of type \(type)"
        }
    }
}
