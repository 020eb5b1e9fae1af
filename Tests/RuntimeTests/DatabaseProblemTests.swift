import AftercarePersistence
import AftercareTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import AftercareRuntime

/// What a caller hears when PostgreSQL refuses a request's write for a reason that is not the
/// request's fault: another transaction in the way is a 503 with a short Retry-After, a unique
/// key a race reached is a 409; neither is a bare 500.
@Suite("Database refusals as problems", .timeLimit(.minutes(2)))
struct DatabaseProblemTests {
    /// The error PostgreSQL raises with `state`, from a real server.
    func raised(_ state: String, on database: TestDatabase) async throws -> any Error {
        try await withRunningClient(try makeClient(url: database.url)) { client in
            do {
                try await client.query(
                    PostgresQuery(unsafeSQL: "DO $$ BEGIN RAISE EXCEPTION 'raised by the test' USING ERRCODE = '\(state)'; END $$"),
                    logger: TestEnvironment.logger
                )
            } catch {
                return error
            }
            Issue.record("PostgreSQL raised nothing for \(state)")
            return CancellationError()
        }
    }

    @Test("a deadlock, a serialization failure or a lock not granted is a 503 to try again shortly")
    func contention() async throws {
        try await TestDatabase.with { database in
            for state in ["40P01", "40001", "55P03"] {
                let problem = ProblemMiddleware<AftercareRequestContext>.problem(
                    for: try await raised(state, on: database),
                    logger: TestEnvironment.logger
                )
                #expect(problem.status == .serviceUnavailable && problem.retryAfterSeconds == 1, "\(state): \(problem)")
            }
        }
    }

    @Test("a statement PostgreSQL cancelled at its statement_timeout is a 503 to try again in a few seconds")
    func statementTimeout() async throws {
        try await TestDatabase.with { database in
            let cancelled: any Error = try await withRunningClient(try makeClient(url: database.url)) { client in
                do {
                    try await client.withTransaction(logger: TestEnvironment.logger) { connection in
                        try await connection.query("SET LOCAL statement_timeout = '50ms'", logger: TestEnvironment.logger)
                        _ = try await connection.query("SELECT pg_sleep(5)", logger: TestEnvironment.logger).collect()
                    }
                } catch {
                    return (error as? PostgresTransactionError)?.closureError ?? error
                }
                Issue.record("the statement was not cancelled")
                return CancellationError()
            }
            let problem = ProblemMiddleware<AftercareRequestContext>.problem(for: cancelled, logger: TestEnvironment.logger)
            #expect(problem.status == .serviceUnavailable && problem.retryAfterSeconds == 5, "\(problem)")
        }
    }

    @Test("a unique key a race reached is a 409; any other database error stays a 500")
    func uniqueAndOther() async throws {
        try await TestDatabase.with { database in
            let unique = ProblemMiddleware<AftercareRequestContext>.problem(
                for: try await raised("23505", on: database),
                logger: TestEnvironment.logger
            )
            #expect(unique.status == .conflict)
            let other = ProblemMiddleware<AftercareRequestContext>.problem(
                for: try await raised("22012", on: database),
                logger: TestEnvironment.logger
            )
            #expect(other.status == .internalServerError)
        }
    }
}
