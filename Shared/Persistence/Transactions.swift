import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction`, but a failure inside `body` surfaces as the error `body` threw
    /// (a `ProblemDetails`, a lost lease, a failed migration) rather than wrapped in
    /// `PostgresTransactionError`, so callers can catch what they mean.
    public func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger) { try await body($0) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }
}
