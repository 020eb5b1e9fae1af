import AftercareMessaging
import AftercarePersistence
import Foundation

/// The dispatch database: the platform's messaging and timer tables, then the service's own.
enum DispatchMigrations {
    static let all: [Migration] = PlatformSchema.migrations + [catalog, directory, bookings]

    /// The service catalog, seeded with the brand's defaults (HQ changes them through the
    /// API; a later change of the defaults themselves is a migration of its own).
    static let catalog = Migration(
        "dispatch-001-catalog",
        """
        CREATE TABLE service_types (
            key text PRIMARY KEY,
            definition jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text
        )
        """,
        seed(ServiceType.defaults)
    )

    static func seed(_ types: [ServiceType]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let rows = types.map { type in
            let json = String(decoding: (try? encoder.encode(type)) ?? Data("{}".utf8), as: UTF8.self)
            return "('\(type.key)', $catalog$\(json)$catalog$::jsonb)"
        }
        return "INSERT INTO service_types (key, definition) VALUES " + rows.joined(separator: ", ")
    }

    /// What dispatch knows of the organisation from membership's events (stores, members,
    /// their purchases, technicians) and each technician's service profile, which dealer
    /// admins and HQ keep here.
    static let directory = Migration(
        "dispatch-002-directory",
        """
        CREATE TABLE stores (
            store_id text PRIMARY KEY,
            dealer_id text NOT NULL,
            name text NOT NULL,
            time_zone text NOT NULL,
            slot_windows jsonb
        )
        """,
        """
        CREATE TABLE members (
            member_id text PRIMARY KEY,
            guide_id text,
            store_id text NOT NULL,
            dealer_id text NOT NULL,
            tier text,
            tier_spend_cents bigint NOT NULL DEFAULT 0,
            name text,
            phone text,
            registered_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX members_by_guide ON members (guide_id)",
        "CREATE INDEX members_by_store ON members (store_id)",
        """
        CREATE TABLE purchases (
            order_id text PRIMARY KEY,
            member_id text NOT NULL,
            categories text[] NOT NULL,
            purchased_at timestamptz NOT NULL,
            refunded boolean NOT NULL DEFAULT false
        )
        """,
        "CREATE INDEX purchases_by_member ON purchases (member_id, purchased_at)",
        """
        CREATE TABLE technicians (
            technician_id text PRIMARY KEY,
            dealer_id text NOT NULL,
            home_store text,
            name text,
            phone text,
            active boolean NOT NULL,
            skills text[] NOT NULL DEFAULT '{}',
            territory text[] NOT NULL DEFAULT '{}',
            hours jsonb NOT NULL,
            days_off text[] NOT NULL DEFAULT '{}',
            visits_per_day int NOT NULL,
            updated_at timestamptz,
            updated_by text
        )
        """,
        "CREATE INDEX technicians_by_dealer ON technicians (dealer_id)"
    )

    /// Bookings in slots, the service orders they become, each seat's offer, the offers
    /// already made (nobody is asked twice for one order), the checklist as worked, and
    /// every change with who and why.
    static let bookings = Migration(
        "dispatch-003-bookings",
        """
        CREATE TABLE bookings (
            id uuid PRIMARY KEY,
            member_id text NOT NULL,
            store_id text NOT NULL,
            dealer_id text NOT NULL,
            guide_id text,
            service_type text NOT NULL,
            crew_size int NOT NULL,
            day date NOT NULL,
            window_from int NOT NULL,
            window_to int NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            address text NOT NULL,
            note text,
            coupon_code text,
            status text NOT NULL,
            reason text,
            booked_by text NOT NULL,
            follow_up_of uuid,
            idempotency_key text UNIQUE,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX bookings_holding_slots ON bookings (dealer_id, day) WHERE status IN ('awaiting_coupon', 'confirmed')",
        "CREATE INDEX bookings_by_member ON bookings (member_id, starts_at)",
        """
        CREATE TABLE orders (
            id uuid PRIMARY KEY,
            booking_id uuid NOT NULL UNIQUE REFERENCES bookings (id),
            member_id text NOT NULL,
            store_id text NOT NULL,
            dealer_id text NOT NULL,
            guide_id text,
            service_type text NOT NULL,
            definition jsonb NOT NULL,
            status text NOT NULL,
            reason text,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            address text NOT NULL,
            no_candidate_alerted boolean NOT NULL DEFAULT false,
            deadline_alerted boolean NOT NULL DEFAULT false,
            follow_up_of uuid,
            round int NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX orders_by_store ON orders (store_id, starts_at)",
        "CREATE INDEX orders_by_member ON orders (member_id, starts_at)",
        "CREATE INDEX orders_by_dealer_time ON orders (dealer_id, starts_at)",
        """
        CREATE TABLE order_seats (
            order_id uuid NOT NULL REFERENCES orders (id),
            seat int NOT NULL,
            technician_id text NOT NULL,
            status text NOT NULL,
            offer_id uuid NOT NULL,
            offered_at timestamptz NOT NULL,
            expires_at timestamptz,
            why text NOT NULL,
            PRIMARY KEY (order_id, seat),
            UNIQUE (order_id, technician_id)
        )
        """,
        "CREATE INDEX order_seats_by_technician ON order_seats (technician_id)",
        """
        CREATE TABLE offers_made (
            order_id uuid NOT NULL REFERENCES orders (id),
            seat int NOT NULL,
            technician_id text NOT NULL,
            round int NOT NULL,
            outcome text NOT NULL,
            reason text,
            at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX offers_made_by_order ON offers_made (order_id)",
        """
        CREATE TABLE order_steps (
            order_id uuid NOT NULL REFERENCES orders (id),
            step int NOT NULL,
            done_by text NOT NULL,
            done_at timestamptz NOT NULL,
            note text,
            photo text,
            PRIMARY KEY (order_id, step)
        )
        """,
        """
        CREATE TABLE order_timeline (
            id bigserial PRIMARY KEY,
            order_id uuid NOT NULL REFERENCES orders (id),
            at timestamptz NOT NULL,
            kind text NOT NULL,
            actor text NOT NULL,
            detail text
        )
        """,
        "CREATE INDEX order_timeline_by_order ON order_timeline (order_id, at)"
    )
}
