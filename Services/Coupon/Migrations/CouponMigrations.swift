import AftercareMessaging
import AftercarePersistence

/// The coupon database: the platform's messaging and timer tables, then the service's own.
enum CouponMigrations {
    static let all: [Migration] = PlatformSchema.migrations + [directory, coupons, rules, expiry, campaigns, storeEvents]

    /// What the coupon service knows of the organisation from membership's events: stores
    /// and their dealer (where a coupon is honoured), members with their guide, store, dealer
    /// and tier (who may issue to whom, and campaign segments).
    static let directory = Migration(
        "coupon-001-directory",
        """
        CREATE TABLE stores (
            store_id text PRIMARY KEY,
            dealer_id text NOT NULL
        )
        """,
        """
        CREATE TABLE members (
            member_id text PRIMARY KEY,
            guide_id text,
            store_id text NOT NULL,
            dealer_id text NOT NULL,
            tier text,
            tags text[] NOT NULL DEFAULT '{}'
        )
        """,
        "CREATE INDEX coupon_members_by_guide ON members (guide_id)"
    )

    /// Templates with their budget counter; issued coupons with a copy of their terms (a
    /// changed template leaves them alone); the counters that hold the per-member limit and
    /// a guide's monthly allowance; every redemption; the history of each coupon (who, where,
    /// when); failed code lookups per caller (to slow guessing down).
    static let coupons = Migration(
        "coupon-002-coupons",
        """
        CREATE TABLE coupon_templates (
            id uuid PRIMARY KEY,
            dealer_id text,
            definition jsonb NOT NULL,
            quantity integer,
            issued integer NOT NULL DEFAULT 0,
            paused boolean NOT NULL DEFAULT false,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        """
        CREATE TABLE coupons (
            code text PRIMARY KEY,
            template_id uuid NOT NULL REFERENCES coupon_templates (id),
            member_id text NOT NULL,
            store_id text NOT NULL,
            dealer_id text NOT NULL,
            terms jsonb NOT NULL,
            valid_from timestamptz NOT NULL,
            valid_until timestamptz NOT NULL,
            status text NOT NULL,
            reserved_for uuid,
            issued_by text NOT NULL,
            issued_why text NOT NULL,
            issue_key text UNIQUE,
            issued_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX coupons_by_member ON coupons (member_id, issued_at)",
        "CREATE INDEX coupons_by_store ON coupons (store_id, issued_at)",
        "CREATE INDEX coupons_by_dealer ON coupons (dealer_id, issued_at)",
        "CREATE INDEX coupons_reserved ON coupons (reserved_for) WHERE reserved_for IS NOT NULL",
        """
        CREATE TABLE member_issues (
            template_id uuid NOT NULL,
            member_id text NOT NULL,
            issued integer NOT NULL,
            PRIMARY KEY (template_id, member_id)
        )
        """,
        """
        CREATE TABLE guide_issues (
            template_id uuid NOT NULL,
            guide_id text NOT NULL,
            month text NOT NULL,
            issued integer NOT NULL,
            PRIMARY KEY (template_id, guide_id, month)
        )
        """,
        """
        CREATE TABLE redemptions (
            id uuid PRIMARY KEY,
            code text NOT NULL REFERENCES coupons (code),
            store_id text NOT NULL,
            member_id text NOT NULL,
            redeemed_by text NOT NULL,
            redeemed_at timestamptz NOT NULL,
            undone_at timestamptz,
            undone_by text,
            undo_reason text
        )
        """,
        "CREATE INDEX redemptions_by_code ON redemptions (code, redeemed_at)",
        """
        CREATE TABLE coupon_history (
            id bigserial PRIMARY KEY,
            code text NOT NULL,
            at timestamptz NOT NULL,
            kind text NOT NULL,
            actor text NOT NULL,
            store_id text,
            booking_id uuid,
            detail text
        )
        """,
        "CREATE INDEX coupon_history_by_code ON coupon_history (code, at)",
        """
        CREATE TABLE lookup_failures (
            caller text NOT NULL,
            minute timestamptz NOT NULL,
            failures integer NOT NULL,
            PRIMARY KEY (caller, minute)
        )
        """
    )

    /// Rules that issue a template when a membership event arrives (a birthday month, a new
    /// tier, a new member); a dealer admin's rules reach their dealer's members alone.
    static let rules = Migration(
        "coupon-003-rules",
        """
        CREATE TABLE issue_rules (
            id uuid PRIMARY KEY,
            event_type text NOT NULL,
            template_id uuid NOT NULL REFERENCES coupon_templates (id),
            tier text,
            dealer_id text,
            active boolean NOT NULL DEFAULT true,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX issue_rules_by_event ON issue_rules (event_type) WHERE active"
    )

    /// The hourly sweep finds active coupons near or past their end by validity; a coupon
    /// reminded once is not reminded again.
    static let expiry = Migration(
        "coupon-004-expiry",
        "ALTER TABLE coupons ADD COLUMN reminded_at timestamptz",
        "CREATE INDEX coupons_active_by_expiry ON coupons (valid_until) WHERE status = 'active'"
    )

    /// A campaign issues one template to a segment of members in batches: where it has got
    /// to (the last member id handled, in id order) and its counts commit with each batch,
    /// so after a restart it goes on from there.
    static let campaigns = Migration(
        "coupon-005-campaigns",
        """
        CREATE TABLE campaigns (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            template_id uuid NOT NULL REFERENCES coupon_templates (id),
            dealer_id text,
            segment jsonb NOT NULL,
            matched integer NOT NULL,
            status text NOT NULL,
            stop_reason text,
            last_member text NOT NULL DEFAULT '',
            considered integer NOT NULL DEFAULT 0,
            issued integer NOT NULL DEFAULT 0,
            skipped integer NOT NULL DEFAULT 0,
            request_key text UNIQUE,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            finished_at timestamptz
        )
        """,
        "CREATE INDEX campaigns_by_dealer ON campaigns (dealer_id, created_at)"
    )

    /// Store events: an event's counters (invited, checked in) are conditional counters, so
    /// its capacity holds under racing check-ins; one invitation and one check-in per member
    /// (primary keys). Purchases are kept only for members who checked in within the 30 days
    /// before, for the events' statistics.
    static let storeEvents = Migration(
        "coupon-006-store-events",
        """
        CREATE TABLE store_events (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            store_id text NOT NULL,
            dealer_id text NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            template_id uuid NOT NULL REFERENCES coupon_templates (id),
            capacity integer,
            check_in_code text NOT NULL UNIQUE,
            invited integer NOT NULL DEFAULT 0,
            checked_in integer NOT NULL DEFAULT 0,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX store_events_by_store ON store_events (store_id, starts_at)",
        "CREATE INDEX store_events_by_dealer ON store_events (dealer_id, starts_at)",
        """
        CREATE TABLE event_invitations (
            event_id uuid NOT NULL REFERENCES store_events (id),
            member_id text NOT NULL,
            invited_by text NOT NULL,
            invited_at timestamptz NOT NULL,
            PRIMARY KEY (event_id, member_id)
        )
        """,
        """
        CREATE TABLE event_checkins (
            event_id uuid NOT NULL REFERENCES store_events (id),
            member_id text NOT NULL,
            invited boolean NOT NULL,
            checked_in_at timestamptz NOT NULL,
            checked_in_by text NOT NULL,
            coupon_code text,
            gift_refusal text,
            PRIMARY KEY (event_id, member_id)
        )
        """,
        "CREATE INDEX event_checkins_by_member ON event_checkins (member_id, checked_in_at)",
        """
        CREATE TABLE purchases (
            order_id text PRIMARY KEY,
            member_id text NOT NULL,
            amount_cents bigint NOT NULL,
            purchased_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX purchases_by_member ON purchases (member_id, purchased_at)"
    )
}
