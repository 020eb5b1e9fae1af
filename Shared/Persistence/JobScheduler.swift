import Foundation
import Logging
import PostgresNIO

/// A deadline as a row: kind, payload, due time, optional unique key.
public struct ScheduledJob: Sendable, Equatable {
    public let id: Int64
    public let kind: String
    public let uniqueKey: String?
    public let payload: String
    public let dueAt: Date
    /// Failed attempts so far (0 on the first firing).
    public let attempts: Int
}

/// Writes and cancels durable timers inside the caller's transaction, so a job exists if and
/// only if the business change that needs it committed.
public enum JobScheduler {
    public static let notificationChannel = "aftercare_jobs"

    /// The jobs table; services list it through `PlatformSchema`.
    public static let migration = Migration(
        "platform-003-scheduled-jobs",
        """
        CREATE TABLE scheduled_jobs (
            id bigserial PRIMARY KEY,
            kind text NOT NULL,
            unique_key text UNIQUE,
            payload text NOT NULL DEFAULT '{}',
            due_at timestamptz NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            leased_by text,
            lease_expires_at timestamptz,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX scheduled_jobs_due ON scheduled_jobs (due_at)"
    )

    /// Schedules a job. With a `uniqueKey` that already exists, `replacing` moves the
    /// existing job to the new time and payload; otherwise the existing job is kept and false
    /// is returned.
    @discardableResult
    public static func schedule(
        kind: String,
        dueAt: Date,
        payload: String = "{}",
        uniqueKey: String? = nil,
        replacing: Bool = false,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        let onConflict =
            replacing
            ? """
            DO UPDATE SET kind = EXCLUDED.kind, payload = EXCLUDED.payload, due_at = EXCLUDED.due_at,
                attempts = 0, leased_by = NULL, lease_expires_at = NULL, last_error = NULL
            """
            : "DO NOTHING"
        let rows = try await connection.query(
            """
            WITH scheduled AS (
                INSERT INTO scheduled_jobs (kind, unique_key, payload, due_at) VALUES (\(kind), \(uniqueKey), \(payload), \(dueAt))
                ON CONFLICT (unique_key) \(unescaped: onConflict) RETURNING 1
            )
            SELECT 1 FROM scheduled\(unescaped: CommitWakeUps.wakeUp(notificationChannel))
            """,
            logger: logger
        )
        var inserted = false
        for try await _ in rows { inserted = true }
        return inserted
    }

    /// Cancels the job with this key; true if there was one.
    @discardableResult
    public static func cancel(uniqueKey: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("DELETE FROM scheduled_jobs WHERE unique_key = \(uniqueKey) RETURNING 1", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
