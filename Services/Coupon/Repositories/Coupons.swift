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

    /// Redeems an active, unexpired coupon at a desk in one statement: the status, the
    /// redemption row and the history entry. Answers the coupon, now redeemed, or nil when it
    /// was not active; the caller checks the rest (member, store, validity, scope) and throws,
    /// rolling the statement back, when the desk may not redeem it.
    func redeemIfActive(_ code: String, memberId: String, storeId: String, actor: String, on connection: PostgresConnection) async throws -> Coupon? {
        let now = clock.now()
        let rows = try await connection.query(
            """
            WITH taken AS (
                UPDATE coupons SET status = 'redeemed', updated_at = \(now)
                WHERE code = \(code) AND status = 'active' AND valid_until >= \(now)
                RETURNING \(unescaped: Self.columns)
            ), redeemed AS (
                INSERT INTO redemptions (id, code, store_id, member_id, redeemed_by, redeemed_at)
                SELECT \(UUID()), code, \(storeId), \(memberId), \(actor), \(now) FROM taken
            ), noted AS (
                INSERT INTO coupon_history (code, at, kind, actor, store_id)
                SELECT code, \(now), \(CouponRedeemedKind.eventType), \(actor), \(storeId) FROM taken
            )
            SELECT * FROM taken
            """,
            logger: logger
        )
        return try await rows.collect().first.map { try Self.coupon($0, now: now) }
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
