import Foundation
import Hummingbird

/// One invalid field of a request, named by its JSON path (e.g. `items[0].amount`).
public struct FieldProblem: Codable, Sendable, Equatable {
    public let field: String
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// An RFC 9457 problem: the one shape of every error response. It never carries stack
/// traces, SQL or other internals.
public struct ProblemDetails: Error, HTTPResponseError, Codable, Sendable {
    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    public var instance: String?
    public var requestID: String?
    public var errors: [FieldProblem]?
    /// Readiness checks by name ("up"/"down"), for 503 from /health/ready.
    public var checks: [String: String]?
    /// Sent as `Retry-After` (not in the body) with a 503 the caller should simply repeat.
    public var retryAfterSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case type, title, detail, instance, errors, checks
        case statusCode = "status"
        case requestID = "requestId"
    }

    public init(status: HTTPResponse.Status, detail: String? = nil, type: String = "about:blank", errors: [FieldProblem]? = nil) {
        self.type = type
        self.title = status.reasonPhrase
        self.statusCode = status.code
        self.detail = detail
        self.errors = errors
    }

    public var status: HTTPResponse.Status { .init(code: statusCode) }

    public static func badRequest(_ detail: String) -> Self { .init(status: .badRequest, detail: detail) }
    public static func notFound(_ detail: String = "No such resource.") -> Self { .init(status: .notFound, detail: detail) }
    public static func conflict(_ detail: String) -> Self { .init(status: .conflict, detail: detail) }
    public static func unauthorized(_ detail: String) -> Self { .init(status: .unauthorized, detail: detail) }
    public static func forbidden(_ detail: String) -> Self { .init(status: .forbidden, detail: detail) }

    public static func validation(_ errors: [FieldProblem]) -> Self {
        .init(status: .unprocessableContent, detail: "The request has invalid fields.", type: "urn:aftercare:problem:validation", errors: errors)
    }

    public static func validation(field: String, _ message: String) -> Self {
        validation([FieldProblem(field: field, message: message)])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var problem = self
        problem.instance = problem.instance ?? request.uri.path
        problem.requestID = problem.requestID ?? context.logger[metadataKey: "request_id"]?.description
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(problem)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let seconds = retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
