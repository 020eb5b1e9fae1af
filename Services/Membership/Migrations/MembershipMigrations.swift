import AftercareMessaging
import AftercarePersistence

/// The membership database: the platform's messaging and timer tables, then the service's own.
enum MembershipMigrations {
    static let all: [Migration] =
        PlatformSchema.migrations + [
            organisation, members, loyalty, storeSales, clearingAtScale, lotsExpireOnce, purchaseLots, lotsUpdatedInPlace, technicians,
        ]

    static let organisation = Migration(
        "membership-001-organisation",
        "CREATE TABLE dealers (id text PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
        """
        CREATE TABLE stores (
            id text PRIMARY KEY,
            dealer_id text NOT NULL REFERENCES dealers (id),
            name text NOT NULL,
            address text NOT NULL DEFAULT '',
            time_zone text NOT NULL,
            business_hours jsonb,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE staff (
            id text PRIMARY KEY,
            dealer_id text NOT NULL REFERENCES dealers (id),
            store_id text REFERENCES stores (id),
            role text NOT NULL CHECK (role IN ('guide', 'store_manager', 'dealer_admin')),
            name text NOT NULL,
            phone text NOT NULL,
            invite_code text UNIQUE,
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
            joined_at timestamptz NOT NULL,
            left_at timestamptz,
            CHECK (role = 'dealer_admin' OR store_id IS NOT NULL)
        )
        """,
        "CREATE INDEX staff_store_role ON staff (store_id, role) WHERE status = 'active'"
    )

    static let members = Migration(
        "membership-002-members",
        """
        CREATE TABLE members (
            id uuid PRIMARY KEY,
            phone text NOT NULL UNIQUE,
            name text NOT NULL DEFAULT '',
            birthday_month smallint CHECK (birthday_month BETWEEN 1 AND 12),
            birthday_day smallint CHECK (birthday_day BETWEEN 1 AND 31),
            birth_year smallint,
            addresses jsonb NOT NULL DEFAULT '[]',
            service_consent boolean NOT NULL,
            marketing_consent boolean NOT NULL,
            tags text[] NOT NULL DEFAULT '{}',
            guide_id text REFERENCES staff (id),
            store_id text NOT NULL REFERENCES stores (id),
            dealer_id text NOT NULL REFERENCES dealers (id),
            referred_by uuid REFERENCES members (id),
            registered_via text NOT NULL CHECK (registered_via IN ('invite_code', 'staff')),
            tier text NOT NULL,
            points_balance bigint NOT NULL DEFAULT 0 CHECK (points_balance >= 0),
            registered_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        // Lists are paged by (registered_at, id); each scope has its own index.
        "CREATE INDEX members_guide ON members (guide_id, registered_at, id)",
        "CREATE INDEX members_store ON members (store_id, registered_at, id)",
        "CREATE INDEX members_dealer ON members (dealer_id, registered_at, id)",
        "CREATE INDEX members_all ON members (registered_at, id)",
        "CREATE INDEX members_tags ON members USING gin (tags)",
        "CREATE INDEX members_birthday ON members (birthday_month, birthday_day)"
    )

    static let loyalty = Migration(
        "membership-003-loyalty",
        """
        CREATE TABLE tiers (
            name text PRIMARY KEY,
            threshold_cents bigint NOT NULL UNIQUE CHECK (threshold_cents >= 0),
            multiplier numeric(6, 3) NOT NULL CHECK (multiplier > 0)
        )
        """,
        "INSERT INTO tiers VALUES ('member', 0, 1.0), ('silver', 500000, 1.2), ('gold', 2000000, 1.5), ('platinum', 5000000, 2.0)",
        """
        CREATE TABLE purchases (
            order_id text PRIMARY KEY,
            member_id uuid NOT NULL REFERENCES members (id),
            store_id text NOT NULL,
            guide_id text,
            amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
            items jsonb NOT NULL,
            purchased_at timestamptz NOT NULL,
            points_earned bigint NOT NULL,
            refunded_at timestamptz,
            recorded_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX purchases_member ON purchases (member_id, purchased_at)",
        "CREATE INDEX purchases_store ON purchases (store_id, purchased_at)",
        // Earned points in lots, each with the clearing it expires at; spending draws from the
        // earliest-expiring lots first. `remaining` is what is left of the lot.
        """
        CREATE TABLE points_lots (
            id bigserial PRIMARY KEY,
            member_id uuid NOT NULL REFERENCES members (id),
            source text NOT NULL,
            points bigint NOT NULL CHECK (points > 0),
            remaining bigint NOT NULL CHECK (remaining >= 0 AND remaining <= points),
            -- What a clearing took from the lot (a refund only reverses what was not lost).
            expired bigint NOT NULL DEFAULT 0 CHECK (expired >= 0),
            earned_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX points_lots_open ON points_lots (member_id, expires_at, id) WHERE remaining > 0",
        "CREATE INDEX points_lots_expiry ON points_lots (expires_at) WHERE remaining > 0",
        // The append-only ledger: the balance is the sum of its deltas.
        """
        CREATE TABLE points_ledger (
            id bigserial PRIMARY KEY,
            member_id uuid NOT NULL REFERENCES members (id),
            kind text NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust', 'reverse')),
            delta bigint NOT NULL,
            balance_after bigint NOT NULL CHECK (balance_after >= 0),
            reference text,
            idempotency_key text,
            at timestamptz NOT NULL,
            UNIQUE (member_id, idempotency_key)
        )
        """,
        "CREATE INDEX points_ledger_member ON points_ledger (member_id, id)",
        // Which yearly or daily sweeps have run (clearing, reminders, review, birthdays), so a
        // sweep runs once even when its timer fires twice or the service restarts mid-way.
        """
        CREATE TABLE sweeps (
            name text PRIMARY KEY,
            finished_at timestamptz,
            last_member_id uuid,
            processed bigint NOT NULL DEFAULT 0
        )
        """
    )

    /// Each store's total sales per local day, reported by its till or the dealer's ERP, so
    /// that the share of sales made by members can be told (membership sees only members').
    static let storeSales = Migration(
        "membership-004-store-sales",
        """
        CREATE TABLE store_sales (
            store_id text NOT NULL REFERENCES stores (id),
            day date NOT NULL,
            total_cents bigint NOT NULL CHECK (total_cents >= 0),
            reported_at timestamptz NOT NULL,
            reported_by text NOT NULL,
            PRIMARY KEY (store_id, day)
        )
        """
    )

    /// What the year-end clearing over every member writes, made cheaper. Members keep a
    /// fifth of each page free, so a balance update stays on its page and touches none of its
    /// indexes (a HOT update); tables migrated with rows in them get that as pages are
    /// rewritten (VACUUM FULL members does it at once). The ledger's idempotency keys are
    /// unique where they exist; rows without one (purchases, clearings) no longer go into
    /// that index at all.
    static let clearingAtScale = Migration(
        "membership-005-clearing-at-scale",
        "ALTER TABLE members SET (fillfactor = 80)",
        "ALTER TABLE points_ledger DROP CONSTRAINT points_ledger_member_id_idempotency_key_key",
        "CREATE UNIQUE INDEX points_ledger_idempotency ON points_ledger (member_id, idempotency_key) WHERE idempotency_key IS NOT NULL"
    )

    /// A lot expires at most once, all at once: the clearing takes everything left, so a lot
    /// that expired something has nothing left. The clearing reads what it took from
    /// `expired` and relies on this.
    static let lotsExpireOnce = Migration(
        "membership-006-lots-expire-once",
        "ALTER TABLE points_lots ADD CONSTRAINT points_lots_expire_once CHECK (expired = 0 OR remaining = 0)"
    )

    /// Each purchase knows the lot it earned, so a refund reads what a clearing took from
    /// that lot by its key, not by `source`, which no index covers (every refund would read
    /// all the lots: millions of rows at the brand's size). A key lookup also spares every lot
    /// an entry in a text index on `source`.
    static let purchaseLots = Migration(
        "membership-007-purchase-lots",
        "ALTER TABLE purchases ADD COLUMN points_lot_id bigint REFERENCES points_lots (id)",
        "UPDATE purchases p SET points_lot_id = l.id FROM points_lots l WHERE l.source = 'purchase:' || p.order_id"
    )

    /// Lots are updated without touching their indexes (HOT updates): no index mentions
    /// `remaining` or `expired` any more, not even in a predicate, and each page keeps a fifth
    /// free for the new versions. The clearing expires every lot it finds, and a non-HOT
    /// update added a primary-key entry for each (300,000 members: 28.12 s → 24.96 s). Open
    /// lots are now found through all of a member's lots, which stay few.
    static let lotsUpdatedInPlace = Migration(
        "membership-008-lots-updated-in-place",
        "ALTER TABLE points_lots SET (fillfactor = 80)",
        "DROP INDEX points_lots_open",
        "DROP INDEX points_lots_expiry",
        "CREATE INDEX points_lots_member ON points_lots (member_id, expires_at, id)"
    )

    /// Technicians are staff: they belong to a dealer, with a home store or none (they may serve
    /// every store of their dealer).
    static let technicians = Migration(
        "membership-009-technicians",
        "ALTER TABLE staff DROP CONSTRAINT staff_role_check",
        "ALTER TABLE staff ADD CONSTRAINT staff_role_check CHECK (role IN ('guide', 'store_manager', 'dealer_admin', 'technician'))",
        "ALTER TABLE staff DROP CONSTRAINT staff_check",
        "ALTER TABLE staff ADD CONSTRAINT staff_store_needed CHECK (role IN ('dealer_admin', 'technician') OR store_id IS NOT NULL)"
    )
}
