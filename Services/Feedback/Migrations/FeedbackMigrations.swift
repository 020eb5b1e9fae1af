import AftercareMessaging
import AftercarePersistence

/// The feedback database: the platform's messaging and timer tables, then the service's own.
enum FeedbackMigrations {
    static let all: [Migration] =
        PlatformSchema.migrations + [
            Migration(
                "feedback-001-directory",
                // Projections of membership events: who a member's guide, store and dealer are,
                // and who staffs each rung of the ladder.
                """
                CREATE TABLE members (
                    member_id text PRIMARY KEY,
                    guide_id text,
                    store_id text NOT NULL,
                    dealer_id text NOT NULL
                )
                """,
                """
                CREATE TABLE staff (
                    staff_id text PRIMARY KEY,
                    role text NOT NULL,
                    dealer_id text NOT NULL,
                    store_id text,
                    active boolean NOT NULL DEFAULT true
                )
                """,
                "CREATE INDEX staff_store_role ON staff (store_id, role) WHERE active",
                "CREATE INDEX staff_dealer_role ON staff (dealer_id, role) WHERE active"
            ),
            Migration(
                "feedback-002-complaints",
                """
                CREATE TABLE complaints (
                    id uuid PRIMARY KEY,
                    member_id text NOT NULL,
                    store_id text NOT NULL,
                    dealer_id text NOT NULL,
                    channel text NOT NULL,
                    category text NOT NULL,
                    severity text NOT NULL,
                    description text NOT NULL,
                    related_reference text,
                    status text NOT NULL,
                    opened_at timestamptz NOT NULL,
                    opened_by text NOT NULL,
                    idempotency_key text UNIQUE
                )
                """,
                """
                CREATE TABLE callback_tasks (
                    id uuid PRIMARY KEY,
                    complaint_id uuid NOT NULL REFERENCES complaints (id),
                    level text NOT NULL,
                    assignee_id text,
                    due_at timestamptz,
                    status text NOT NULL,
                    created_at timestamptz NOT NULL,
                    completed_at timestamptz,
                    completed_by text,
                    met_promise boolean
                )
                """,
                "CREATE INDEX callback_tasks_open_assignee ON callback_tasks (assignee_id) WHERE status = 'open'",
                "CREATE INDEX callback_tasks_complaint ON callback_tasks (complaint_id)",
                """
                CREATE TABLE complaint_timeline (
                    id bigserial PRIMARY KEY,
                    complaint_id uuid NOT NULL REFERENCES complaints (id),
                    at timestamptz NOT NULL,
                    kind text NOT NULL,
                    actor text,
                    detail text
                )
                """,
                "CREATE INDEX complaint_timeline_complaint ON complaint_timeline (complaint_id, id)",
                // One row per rung climbed, for the SLA report's escalations per level.
                """
                CREATE TABLE callback_escalations (
                    task_id uuid NOT NULL REFERENCES callback_tasks (id),
                    from_level text NOT NULL,
                    to_level text NOT NULL,
                    at timestamptz NOT NULL,
                    PRIMARY KEY (task_id, from_level)
                )
                """,
                "CREATE INDEX complaints_opened_at ON complaints (opened_at)"
            ),
            Migration(
                "feedback-003-lifecycle",
                // Resolution, closing and reopening; a call that did not reach the member and
                // when to try again.
                """
                ALTER TABLE complaints ADD COLUMN resolution text, ADD COLUMN resolved_at timestamptz, ADD COLUMN resolved_by text,
                    ADD COLUMN closed_at timestamptz, ADD COLUMN closure text, ADD COLUMN reopened_count integer NOT NULL DEFAULT 0
                """,
                "CREATE INDEX complaints_member ON complaints (member_id, opened_at DESC)",
                "ALTER TABLE callback_tasks ADD COLUMN retry_at timestamptz, ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0",
                // Stores' clocks and hours (from membership), and per-dealer deadlines (set by HQ).
                """
                CREATE TABLE stores (
                    store_id text PRIMARY KEY,
                    dealer_id text NOT NULL,
                    time_zone text NOT NULL,
                    business_hours jsonb
                )
                """,
                """
                CREATE TABLE dealer_policies (
                    dealer_id text PRIMARY KEY,
                    guide_seconds integer NOT NULL,
                    store_manager_seconds integer NOT NULL,
                    dealer_admin_seconds integer NOT NULL,
                    updated_at timestamptz NOT NULL,
                    updated_by text NOT NULL
                )
                """
            ),
            Migration(
                "feedback-004-reviews",
                // One request per completed service order; the review itself, with a rating per
                // technician; a low one links the complaint it opened.
                """
                CREATE TABLE review_requests (
                    id uuid PRIMARY KEY,
                    service_order_id text NOT NULL UNIQUE,
                    member_id text NOT NULL,
                    store_id text NOT NULL,
                    dealer_id text NOT NULL,
                    technician_ids text[] NOT NULL,
                    completed_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    status text NOT NULL
                )
                """,
                "CREATE INDEX review_requests_member ON review_requests (member_id, status)",
                """
                CREATE TABLE reviews (
                    request_id uuid PRIMARY KEY REFERENCES review_requests (id),
                    visit_rating smallint NOT NULL,
                    technician_ratings jsonb NOT NULL,
                    comment text,
                    submitted_at timestamptz NOT NULL,
                    complaint_id uuid REFERENCES complaints (id)
                )
                """
            ),
        ]
}
