import AftercarePersistence
import Hummingbird
import Logging

/// Turns every error into an RFC 9457 problem+json response. Known errors keep their status;
/// anything unexpected becomes a bare 500 and is logged with the request id, so the caller
/// learns nothing of the internals and operators can still find the cause.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, logger: context.logger)
            return try problem.response(from: request, context: context)
        }
    }

    static func problem(for error: any Error, logger: Logger) -> ProblemDetails {
        switch error {
        case let problem as ProblemDetails:
            return problem
        case let error as HTTPError:
            // Framework errors: unknown route (404), body too large (413), bad method (405)…
            var problem = ProblemDetails(status: error.status)
            if error.status.code < 500 { problem.detail = error.body } else { logger.error("request failed", metadata: ["error": "\(error)"]) }
            if error.status == .notFound && problem.detail == nil { problem.detail = "No such resource." }
            return problem
        case let error as any HTTPResponseError where error.status.code < 500:
            return ProblemDetails(status: error.status)
        case let error where DatabaseFault.isUnavailable(error) || DatabaseFault.isStatementTimeout(error):
            // Every database call has a deadline, ours and PostgreSQL's `statement_timeout` a
            // moment behind it: a request is answered in bounded time whatever the database
            // does, and told when to try again.
            logger.warning("database unavailable for a request", metadata: ["error": "\(ErrorText.describe(error))"])
            var problem = ProblemDetails(status: .serviceUnavailable, detail: "The service cannot reach its database right now. Try again shortly.")
            problem.retryAfterSeconds = 5
            return problem
        case let error where DatabaseFault.isContention(error):
            logger.warning("a request met another transaction", metadata: ["error": "\(ErrorText.describe(error))"])
            var problem = ProblemDetails(status: .serviceUnavailable, detail: "A change made at the same moment got in the way. Try again.")
            problem.retryAfterSeconds = 1
            return problem
        case let error where DatabaseFault.sqlState(error) == "23505":
            // A write the code did not expect to race with: the caller hears it as the conflict
            // it is, and the log names the constraint, for the race to be closed.
            logger.error("a unique key refused a write", metadata: ["error": "\(String(reflecting: error))"])
            return ProblemDetails(status: .conflict, detail: "This conflicts with something written at the same moment. Check, then try again.")
        default:
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return ProblemDetails(status: .internalServerError, detail: "Something went wrong on our side. Quote the request id when reporting it.")
        }
    }
}
