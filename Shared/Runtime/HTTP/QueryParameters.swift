import Foundation
import Hummingbird

extension Request {
    /// A whole-number query parameter: nil when absent, a 422 naming it when not a number.
    public func integerQuery(_ name: String) throws -> Int? {
        guard let raw = uri.queryParameters.get(name) else { return nil }
        guard let value = Int(raw) else { throw ProblemDetails.validation(field: name, "must be a whole number") }
        return value
    }

    /// The `from` and `to` query parameters of a report: ISO 8601 date-times, `to` after
    /// `from`. What is wrong is added to `problems`, one entry per field; nil then.
    public func period(problems: inout [FieldProblem]) -> (from: Date, to: Date)? {
        let query = uri.queryParameters
        let from = query.get("from").flatMap { try? Date($0, strategy: .iso8601) }
        let to = query.get("to").flatMap { try? Date($0, strategy: .iso8601) }
        if from == nil { problems.append(.init(field: "from", message: "must be an ISO 8601 date-time")) }
        if to == nil { problems.append(.init(field: "to", message: "must be an ISO 8601 date-time")) }
        guard let from, let to else { return nil }
        guard to > from else {
            problems.append(.init(field: "to", message: "must be after from"))
            return nil
        }
        return (from, to)
    }
}
