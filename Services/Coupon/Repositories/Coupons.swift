import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Issued coupons on the database: read (locked when they change), issued against a
/// template's budget and limits, and every change a history entry and an event.
struct Coupons: Sendable {
    let outbox: Outbox
    let clock: any BusinessClock
    let logger: Logger

    enum Status: String, Codable, Sendable {
        case active, reserved, redeemed, consumed, expired
    }

    struct Coupon: ResponseCodable, Sendable, Equatable {
        let code: String
        let templateId: UUID
        let terms: CouponTerms
        let memberId: String
        let storeId: String
        let dealerId: String
        let validFrom: Date
        let validUntil: Date
        /// As stored; an active coupon past its validity reads `expired`.
        var status: Status
        let reservedFor: UUID?
        let issuedBy: String
        /// `gift`, `rule`, `campaign` or `event`, with its detail.
        let issuedWhy: String
        let issuedAt: Date
        /// The member's guide now (scope), from the directory.
        let guideId: String?
        var history: [Entry]? = nil

        var placement: MemberPlacement { .init(memberId: memberId, guideId: guideId, storeId: storeId, dealerId: dealerId) }
    }

    struct Entry: ResponseCodable, Sendable, Equatable {
        let at: Date
        let kind: String
        let actor: String
        let storeId: String?
        let bookingId: UUID?
        let detail: String?
    }

    /// Of `coupons` (unaliased), with the member's guide.
    static let columns = """
        code, template_id, terms::text, member_id, store_id, dealer_id, valid_from, valid_until, status, reserved_for, issued_by, issued_why, issued_at,
        (SELECT m.guide_id FROM members m WHERE m.member_id = coupons.member_id)
        """

    func load(_ code: String, lock: Bool, on connection: PostgresConnection) async throws -> Coupon? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM coupons WHERE code = \(code) \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: logger
        )
        return try await rows.collect().first.map { try Self.coupon($0, now: clock.now()) }
    }

    /// What a desk reads before it redeems, in one statement: the caller's failed lookups since
    /// `since` (read whether or not the code exists), and the coupon with its history.
    struct DeskView: Sendable {
        let failures: Int
        let oldestFailure: Date?
        let coupon: Coupon?
    }

    func deskView(_ code: String, caller: String, failuresSince since: Date, on database: PostgresClient) async throws -> DeskView {
        // The history's instants are microseconds since 2000 (PostgreSQL's own epoch), turned
        // into dates as PostgresNIO turns a timestamptz: the same dates a separate read gives.
        let rows = try await database.rows(
            """
            SELECT \(unescaped: Self.columns), guard.failures, guard.oldest, past.entries
            FROM (
                SELECT coalesce(sum(failures), 0)::int AS failures, min(minute) AS oldest
                FROM lookup_failures WHERE caller = \(caller) AND minute >= \(since)
            ) AS guard
            LEFT JOIN coupons ON coupons.code = \(code)
            LEFT JOIN LATERAL (
                SELECT json_agg(json_build_object(
                    'micros', ((extract(epoch FROM e.at) - 946684800) * 1000000)::bigint, 'kind', e.kind, 'actor', e.actor,
                    'storeId', e.store_id, 'bookingId', e.booking_id, 'detail', e.detail
                ) ORDER BY e.at, e.id)::text AS entries
                FROM (SELECT * FROM coupon_history h WHERE h.code = coupons.code ORDER BY h.at, h.id LIMIT 200) AS e
            ) AS past ON true
            """,
            logger: logger
        )
        guard let row = rows.first else { return DeskView(failures: 0, oldestFailure: nil, coupon: nil) }
        let cells = row.makeRandomAccess()
        let failures = try cells[14].decode(Int.self)
        let oldest = try cells[15].decode(Date?.self)
        guard cells[0].bytes != nil else { return DeskView(failures: failures, oldestFailure: oldest, coupon: nil) }
        var coupon = try Self.coupon(row, now: clock.now())
        let past = try JSONDecoder().decode([StoredEntry].self, from: Data((try cells[16].decode(String?.self) ?? "[]").utf8))
        coupon.history = past.map(\.entry)
        return DeskView(failures: failures, oldestFailure: oldest, coupon: coupon)
    }

    /// A history entry as `deskView` reads it.
    private struct StoredEntry: Decodable {
        let micros: Int64
        let kind: String
        let actor: String
        let storeId: String?
        let bookingId: UUID?
        let detail: String?

        static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)
        var entry: Entry {
            let at = Date(timeInterval: Double(micros) / 1_000_000, since: Self.postgresEpoch)
            return Entry(at: at, kind: kind, actor: actor, storeId: storeId, bookingId: bookingId, detail: detail)
        }
    }

    /// Redeems a coupon the desk has read and checked, in one autocommit statement that holds
    /// only while it is still active and unexpired (exactly once: the row's lock, and the
    /// condition read again after it): the status, the redemption row, the history entry and
    /// the event. False when another redemption or a reservation came first.
    func redeem(_ coupon: Coupon, memberId: String, storeId: String, actor: String, at now: Date, on database: PostgresClient) async throws -> Bool {
        let event = Self.entry(CouponRedeemedKind.self, coupon, actor: actor, storeId: storeId, reason: nil)
        let draft = try outbox.draft(event.payload, aggregateID: event.aggregateID)
        let rows = try await database.rows(
            """
            WITH taken AS (
                UPDATE coupons SET status = 'redeemed', updated_at = \(now)
                WHERE code = \(coupon.code) AND status = 'active' AND valid_until >= \(now)
                RETURNING code
            ), redeemed AS (
                INSERT INTO redemptions (id, code, store_id, member_id, redeemed_by, redeemed_at)
                SELECT \(UUID()), code, \(storeId), \(memberId), \(actor), \(now) FROM taken
            ), noted AS (
                INSERT INTO coupon_history (code, at, kind, actor, store_id)
                SELECT code, \(now), \(CouponRedeemedKind.eventType), \(actor), \(storeId) FROM taken
            ), \(writing: draft, onRowOf: "taken")
            SELECT 1 FROM outbox_written
            """,
            logger: logger
        )
        Outbox.wakeRelays()
        return !rows.isEmpty
    }

    /// The coupon reserved for a booking, locked.
    func reserved(for bookingId: UUID, on connection: PostgresConnection) async throws -> Coupon? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM coupons WHERE reserved_for = \(bookingId) AND status = 'reserved' FOR UPDATE",
            logger: logger
        )
        return try await rows.collect().first.map { try Self.coupon($0, now: clock.now()) }
    }

    static func coupon(_ row: PostgresRow, now: Date) throws -> Coupon {
        let (code, template, terms, member, store, dealer, from, until, status, reserved, by, why, at, guide) = try row.decode(
            (String, UUID, String, String, String, String, Date, Date, String, UUID?, String, String, Date, String?).self
        )
        var coupon = Coupon(
            code: code,
            templateId: template,
            terms: try JSONDecoder().decode(CouponTerms.self, from: Data(terms.utf8)),
            memberId: member,
            storeId: store,
            dealerId: dealer,
            validFrom: from,
            validUntil: until,
            status: Status(rawValue: status) ?? .expired,
            reservedFor: reserved,
            issuedBy: by,
            issuedWhy: why,
            issuedAt: at,
            guideId: guide
        )
        if coupon.status == .active, until < now { coupon.status = .expired }
        return coupon
    }

    func history(_ code: String, on connection: PostgresConnection) async throws -> [Entry] {
        let rows = try await connection.query(
            "SELECT at, kind, actor, store_id, booking_id, detail FROM coupon_history WHERE code = \(code) ORDER BY at, id LIMIT 200",
            logger: logger
        )
        var entries: [Entry] = []
        for try await (at, kind, actor, store, booking, detail) in rows.decode((Date, String, String, String?, UUID?, String?).self) {
            entries.append(Entry(at: at, kind: kind, actor: actor, storeId: store, bookingId: booking, detail: detail))
        }
        return entries
    }

    /// Sets the coupon's status (and the booking it is held for), writes the history entry in
    /// the same statement, and publishes the event of kind `Kind`.
    func change<Kind: CouponChangeKind>(
        _ coupon: Coupon,
        to status: Status,
        reservedFor: UUID? = nil,
        as kind: Kind.Type,
        actor: String,
        storeId: String? = nil,
        bookingId: UUID? = nil,
        detail: String? = nil,
        on connection: PostgresConnection
    ) async throws {
        try await set(
            coupon,
            to: status,
            reservedFor: reservedFor,
            noting: Kind.eventType,
            actor: actor,
            storeId: storeId,
            bookingId: bookingId,
            detail: detail,
            on: connection
        )
        try await record(kind, coupon, actor: actor, storeId: storeId, bookingId: bookingId, reason: detail, on: connection)
    }

    /// The status and the history entry `kind` in one statement, without an event (a
    /// reservation answers dispatch with its own contract).
    func set(
        _ coupon: Coupon,
        to status: Status,
        reservedFor: UUID? = nil,
        noting kind: String,
        actor: String,
        storeId: String? = nil,
        bookingId: UUID? = nil,
        detail: String? = nil,
        on connection: PostgresConnection
    ) async throws {
        let now = clock.now()
        try await connection.query(
            """
            WITH noted AS (
                INSERT INTO coupon_history (code, at, kind, actor, store_id, booking_id, detail)
                VALUES (\(coupon.code), \(now), \(kind), \(actor), \(storeId), \(bookingId), \(detail))
            )
            UPDATE coupons SET status = \(status.rawValue), reserved_for = \(reservedFor), updated_at = \(now) WHERE code = \(coupon.code)
            """,
            logger: logger
        )
    }

    /// A history entry alone: something was asked of the coupon that did not change it.
    func note(
        _ coupon: Coupon,
        _ kind: String,
        actor: String,
        storeId: String?,
        bookingId: UUID?,
        detail: String?,
        on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            INSERT INTO coupon_history (code, at, kind, actor, store_id, booking_id, detail)
            VALUES (\(coupon.code), \(clock.now()), \(kind), \(actor), \(storeId), \(bookingId), \(detail))
            """,
            logger: logger
        )
    }

    func record<Kind: CouponChangeKind>(
        _ kind: Kind.Type,
        _ coupon: Coupon,
        actor: String,
        storeId: String? = nil,
        bookingId: UUID? = nil,
        reason: String?,
        on connection: PostgresConnection
    ) async throws {
        let entry = Self.entry(kind, coupon, actor: actor, storeId: storeId, bookingId: bookingId, reason: reason)
        try await outbox.record(entry.payload, aggregateID: entry.aggregateID, on: connection)
    }

    /// The event of kind `Kind` for one coupon, for the outbox (alone or in a batch).
    static func entry<Kind: CouponChangeKind>(
        _ kind: Kind.Type,
        _ coupon: Coupon,
        actor: String,
        storeId: String? = nil,
        bookingId: UUID? = nil,
        reason: String?
    ) -> (payload: CouponChange<Kind>, aggregateID: String) {
        let change = CouponChange<Kind>(
            code: coupon.code,
            templateId: coupon.templateId,
            kind: coupon.terms.kind.rawValue,
            title: coupon.terms.title,
            memberId: coupon.memberId,
            storeId: storeId ?? coupon.storeId,
            dealerId: coupon.dealerId,
            validUntil: coupon.validUntil,
            bookingId: bookingId,
            actorId: actor,
            reason: reason
        )
        return (change, "coupon-\(coupon.code)")
    }
}
