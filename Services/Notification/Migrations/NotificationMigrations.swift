import AftercareMessaging
import AftercarePersistence

/// The notification database: the platform's messaging and timer tables, then the service's
/// own, then the out-of-the-box templates and rules (HQ changes them through the API).
enum NotificationMigrations {
    static let all: [Migration] =
        PlatformSchema.migrations + [
            Migration(
                "notification-001-recipients",
                // Projections of membership events: who can be reached, how, and with what consent.
                """
                CREATE TABLE members (
                    member_id text PRIMARY KEY,
                    phone text,
                    name text,
                    guide_id text,
                    store_id text,
                    dealer_id text,
                    time_zone text,
                    service_consent boolean NOT NULL DEFAULT true,
                    marketing_consent boolean NOT NULL DEFAULT false
                )
                """,
                "CREATE INDEX members_phone ON members (phone)",
                """
                CREATE TABLE staff (
                    staff_id text PRIMARY KEY,
                    role text NOT NULL,
                    dealer_id text NOT NULL,
                    store_id text,
                    phone text,
                    name text,
                    active boolean NOT NULL DEFAULT true
                )
                """,
                "CREATE INDEX staff_store_role ON staff (store_id, role) WHERE active",
                "CREATE TABLE stores (store_id text PRIMARY KEY, dealer_id text NOT NULL, time_zone text NOT NULL)",
                // What members chose here (membership owns consent; opt-outs and quiet hours are ours).
                """
                CREATE TABLE preferences (
                    member_id text PRIMARY KEY,
                    marketing_opt_out boolean NOT NULL DEFAULT false,
                    service_opt_out boolean NOT NULL DEFAULT false,
                    quiet_start integer,
                    quiet_end integer,
                    locale text,
                    updated_at timestamptz NOT NULL
                )
                """
            ),
            Migration(
                "notification-002-templates-rules",
                "CREATE TABLE templates (key text PRIMARY KEY, event_type text NOT NULL, bodies jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
                """
                CREATE TABLE rules (
                    id text PRIMARY KEY,
                    event_type text NOT NULL,
                    template_key text NOT NULL REFERENCES templates (key),
                    recipient text NOT NULL,
                    channels text[] NOT NULL,
                    category text NOT NULL,
                    timing text NOT NULL DEFAULT 'immediately',
                    enabled boolean NOT NULL DEFAULT true
                )
                """,
                "CREATE INDEX rules_event_type ON rules (event_type) WHERE enabled"
            ),
            Migration(
                "notification-003-deliveries",
                // One row per (event, recipient, channel, message): the unique key is what makes a
                // redelivered event produce no second message.
                """
                CREATE TABLE deliveries (
                    id uuid PRIMARY KEY,
                    seq bigserial UNIQUE,
                    event_id uuid NOT NULL,
                    event_type text NOT NULL,
                    rule_id text NOT NULL,
                    template_key text NOT NULL,
                    recipient_id text NOT NULL,
                    recipient_kind text NOT NULL,
                    store_id text,
                    dealer_id text,
                    channel text NOT NULL,
                    category text NOT NULL,
                    locale text NOT NULL,
                    body text NOT NULL,
                    status text NOT NULL,
                    reason text,
                    attempts integer NOT NULL DEFAULT 0,
                    provider text,
                    provider_message_id text,
                    due_at timestamptz NOT NULL,
                    created_at timestamptz NOT NULL,
                    sent_at timestamptz,
                    delivered_at timestamptz,
                    read_at timestamptz,
                    UNIQUE (event_id, recipient_id, channel, template_key)
                )
                """,
                "CREATE INDEX deliveries_recipient ON deliveries (recipient_id, seq)",
                "CREATE INDEX deliveries_event ON deliveries (event_id)",
                "CREATE INDEX deliveries_store ON deliveries (store_id, seq)",
                "CREATE INDEX deliveries_marketing ON deliveries (recipient_id, created_at) WHERE category = 'marketing' AND status <> 'skipped'",
                """
                CREATE TABLE delivery_attempts (
                    id bigserial PRIMARY KEY,
                    delivery_id uuid NOT NULL REFERENCES deliveries (id),
                    attempt integer NOT NULL,
                    provider text NOT NULL,
                    at timestamptz NOT NULL,
                    outcome text NOT NULL,
                    status_code integer,
                    detail text,
                    duration_ms integer NOT NULL
                )
                """,
                "CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id)"
            ),
            Migration("notification-004-standard-rules", OutOfTheBox.templatesSQL, OutOfTheBox.rulesSQL),
            Migration(
                "notification-005-member-sequences",
                // The member's event sequence each group of fields was last set from: a retried
                // (older) event must not overwrite what a newer one wrote.
                "ALTER TABLE members ADD COLUMN contact_seq bigint NOT NULL DEFAULT 0, ADD COLUMN placement_seq bigint NOT NULL DEFAULT 0"
            ),
            Migration(
                "notification-006-dispatch-rules",
                OutOfTheBox.templatesSQL(OutOfTheBox.dispatchTemplates),
                OutOfTheBox.rulesSQL(OutOfTheBox.dispatchRules)
            ),
            Migration(
                "notification-007-coupon-rules",
                OutOfTheBox.templatesSQL(OutOfTheBox.couponTemplates),
                OutOfTheBox.rulesSQL(OutOfTheBox.couponRules)
            ),
            Migration(
                "notification-008-store-event-rules",
                OutOfTheBox.templatesSQL(OutOfTheBox.storeEventTemplates),
                OutOfTheBox.rulesSQL(OutOfTheBox.storeEventRules)
            ),
        ]
}
