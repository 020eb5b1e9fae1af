import Foundation
import Hummingbird

/// Holds the path and the query string to what bodies are held to (`RequestBodyDecoder`):
/// no NUL or other control characters and a bounded length, whatever route they are for.
/// PostgreSQL refuses a NUL in text, and a request that carries one is answered with a 422
/// naming the parameter instead of reaching it.
public struct TextInputMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Longer than any id, code or search term of the API.
    static var maxParameterLength: Int { 500 }

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var problems: [FieldProblem] = []
        let path = request.uri.path.removingPercentEncoding ?? request.uri.path
        if let message = Self.problem(with: path, limit: 2_000) { problems.append(.init(field: "(path)", message: message)) }
        for (name, value) in request.uri.queryParameters {
            let field = String(name.removingPercentEncoding ?? String(name))
            if let message = Self.problem(with: field, limit: 100) ?? Self.problem(with: String(value), limit: Self.maxParameterLength) {
                problems.append(.init(field: Self.problem(with: field, limit: 100) == nil ? field : "(query)", message: message))
            }
        }
        guard problems.isEmpty else { throw ProblemDetails.validation(problems) }
        return try await next(request, context)
    }

    static func problem(with text: String, limit: Int) -> String? {
        if text.unicodeScalars.contains(where: RequestBodyDecoder.isControl) { return "must not contain control characters" }
        if text.unicodeScalars.count > limit { return "must be at most \(limit) characters" }
        return nil
    }
}
