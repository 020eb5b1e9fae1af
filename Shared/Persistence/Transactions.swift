import AftercareDeadline
import Logging
import PostgresNIO
import Synchronization

/// How long one database call may take, client side: a query with its rows, or a whole
/// transaction. Every call has this deadline (`within` overrides it for the few that may
/// take longer, such as migrations), so no caller waits for ever on a database that stopped
/// answering or a connection that was ended under it; PostgreSQL's own `statement_timeout`
/// and `idle_in_transaction_session_timeout` (set per connection from the same setting,
/// `DATABASE_TIMEOUT_SECONDS`) are the second line.
public enum DatabaseDeadline {
    private static let current = Mutex<Duration>(.seconds(8))

    public static var standard: Duration {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

extension PostgresClient {
    /// `withTransaction` with a deadline. A failure inside `body` surfaces as the error
    /// `body` threw (a `ProblemDetails`, a lost lease, a failed migration) rather than
    /// wrapped in `PostgresTransactionError`, so callers can catch what they mean. When
    /// `body` fails because the connection was ended, the caller gets that error at once:
    /// PostgresNIO then sends ROLLBACK on the dead connection, which may never answer.
    /// Once it has committed, the loops of this process that its writes asked for
    /// (`CommitWakeUps`) are woken.
    public func transaction<Result: Sendable>(
        logger: Logger,
        within limit: Duration = DatabaseDeadline.standard,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let wakeUps = CommitWakeUps()
        let result = try await CommitWakeUps.$current.withValue(wakeUps) {
            try await committed(logger: logger, within: limit, body)
        }
        wakeUps.ringAll()
        return result
    }

    private func committed<Result: Sendable>(
        logger: Logger,
        within limit: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withDeadline(limit, "a database transaction") { abandon in
            do {
                return try await self.withTransaction(logger: logger) { connection in
                    // A statement written to a connection that has just closed may never
                    // answer (its write is dropped): notice the close and stop waiting. Polled,
                    // not a `closeFuture` callback: NIO cannot remove one, so a pooled
                    // connection would collect a callback per transaction until it closes.
                    let watch = Task {
                        while !Task.isCancelled, !connection.isClosed { try? await Task.sleep(for: .milliseconds(250)) }
                        if connection.isClosed { abandon(DatabaseConnectionEnded()) }
                    }
                    defer { watch.cancel() }
                    do {
                        return try await body(connection)
                    } catch  where DatabaseFault.isUnavailable(error) {
                        abandon(error)
                        throw error
                    }
                }
            } catch let error as PostgresTransactionError {
                throw error.closureError ?? error.beginError ?? error.commitError ?? error
            }
        }
    }

    /// Runs one statement outside a transaction and returns its rows, all read within the
    /// deadline.
    @discardableResult
    public func rows(_ query: PostgresQuery, logger: Logger, within limit: Duration = DatabaseDeadline.standard) async throws -> [PostgresRow] {
        try await withDeadline(limit, "a database query") {
            try await self.query(query, logger: logger).collect()
        }
    }
}

/// The connection a transaction ran on was closed (PostgreSQL ended it) before it finished.
public struct DatabaseConnectionEnded: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the database connection was closed during the transaction" }
}

/// Which database errors mean "not reachable right now" rather than "this request is wrong".
public enum DatabaseFault {
    public static func isUnavailable(_ error: any Error) -> Bool {
        if error is DeadlineExceeded || error is DatabaseConnectionEnded { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed: return true
        case .server:
            // 57P0x: the server is shutting down or ended the backend; 08xxx: connection faults.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57P") || state.hasPrefix("08")
        default: return false
        }
    }

    /// The database's own sqlState of a server error (`23505`, `40P01`…), if it is one.
    public static func sqlState(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }

    /// Two transactions met: a deadlock, a serialization failure, a lock not granted. The
    /// request was fine, and the same request a moment later will likely go through.
    public static func isContention(_ error: any Error) -> Bool {
        ["40P01", "40001", "55P03"].contains(sqlState(error) ?? "")
    }

    /// PostgreSQL cancelled the statement at its `statement_timeout`. Not "unavailable": the
    /// connection is fine, and an event whose handler always runs this long must use up its
    /// attempts and reach the dead letters rather than wait for ever.
    public static func isStatementTimeout(_ error: any Error) -> Bool {
        sqlState(error) == "57014"
    }
}
