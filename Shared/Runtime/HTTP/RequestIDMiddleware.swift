import Foundation
import HTTPTypes
import Hummingbird

/// Gives every request an id (the caller's `X-Request-Id` if sane, else a new UUID), puts it
/// on the request's logger and echoes it in the response so logs and reports can be joined.
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let supplied = request.headers[.xRequestID].flatMap { value in
            value.count <= 128 && value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) ? value : nil
        }
        let id = supplied ?? UUID().uuidString.lowercased()
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.xRequestID] = id
        return response
    }
}

extension HTTPField.Name {
    public static let xRequestID = Self("X-Request-Id")!
    public static let idempotencyKey = Self("Idempotency-Key")!
}
