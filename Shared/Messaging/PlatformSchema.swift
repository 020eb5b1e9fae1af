import AftercarePersistence

/// Tables every service needs for reliable messaging and durable timers. Each service lists
/// these first in its migrations, then its own.
public enum PlatformSchema {
    public static let migrations: [Migration] = [
        Migration(
            "platform-001-outbox",
            """
            CREATE TABLE outbox (
                position bigserial PRIMARY KEY,
                event_id uuid NOT NULL UNIQUE,
                event_type text NOT NULL,
                aggregate_id text NOT NULL,
                aggregate_sequence bigint NOT NULL,
                correlation_id uuid NOT NULL,
                envelope text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                sent_at timestamptz
            )
            """,
            "CREATE INDEX outbox_unsent ON outbox (position) WHERE sent_at IS NULL",
            "CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL",
            """
            CREATE TABLE outbox_aggregate_sequences (
                aggregate_id text PRIMARY KEY,
                last_sequence bigint NOT NULL
            )
            """
        ),
        Migration(
            "platform-002-inbox",
            """
            CREATE TABLE inbox (
                consumer text NOT NULL,
                event_id uuid NOT NULL,
                event_type text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (consumer, event_id)
            )
            """
        ),
        JobScheduler.migration,
        // Which events still wait for the relay, kept apart from the wide outbox rows: the
        // relay deletes a narrow row here instead of updating (and re-indexing) the whole
        // event, which was most of its database time. Sent rows are those not pending.
        Migration(
            "platform-004-outbox-pending",
            "CREATE TABLE outbox_pending (position bigint PRIMARY KEY)",
            "INSERT INTO outbox_pending (position) SELECT position FROM outbox WHERE sent_at IS NULL",
            "DROP INDEX outbox_unsent",
            "DROP INDEX outbox_sent_at",
            "ALTER TABLE outbox DROP COLUMN sent_at",
            // Pruning finds old rows by age; a BRIN index costs the writers almost nothing.
            "CREATE INDEX outbox_created_at ON outbox USING brin (created_at)"
        ),
        // A statement that records many events (a sweep over a million members) marks them
        // pending in runs of up to `Outbox.runLength` positions, one row per run, instead of a
        // row per event: inserting and deleting a marker per event was a large share of a
        // clearing's database time. A marker without `positions` stands for its own position.
        Migration(
            "platform-005-outbox-pending-runs",
            "ALTER TABLE outbox_pending ADD COLUMN positions bigint[]",
            OutboxRelay.claimFunction
        ),
    ]
}
