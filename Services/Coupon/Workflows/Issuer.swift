import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Issues one coupon from a template to a member, on the connection it is given: a gift by
/// staff, and (through the same path) rules, campaigns and store events. The template's
/// budget, the per-member limit and a guide's monthly allowance are each one conditional
/// counter statement, so concurrent issues never pass them: the row lock orders them and
/// each re-checks the count it waited for.
struct Issuer: Sendable {
    let coupons: Coupons
    let clock: any BusinessClock
    let logger: Logger

    struct Order: Sendable {
        let templateId: UUID
        let member: MemberPlacement
        let actor: String
        /// The issuing staff member's role (nil for the service's own rules and campaigns).
        let role: Role?
        /// `gift`, `rule: …`, `campaign: …`, `event: …`.
        let why: String
        /// Issuing twice under one key gives the first coupon again.
        let key: String?
    }

    /// The coupon under `key` if one was issued, else a new one.
    func issue(_ order: Order, on connection: PostgresConnection) async throws -> (Coupons.Coupon, created: Bool) {
        if let key = order.key {
            // Requests with one key wait for each other here; the later ones find the first's coupon.
            let issued = try await TransactionLock.answered(key, in: .issueKey, on: connection, logger: logger) {
                try await connection.query("SELECT \(unescaped: Coupons.columns) FROM coupons WHERE issue_key = \(key)", logger: logger).collect()
                    .first
            }
            if let issued { return (try Coupons.coupon(issued, now: clock.now()), false) }
        }
        let template = try await check(order.templateId, dealerId: order.member.dealerId, role: order.role, on: connection)
        try await count(order, template: template, on: connection)
        let now = clock.now()
        let (from, until) = validity(of: template.definition, from: now)
        let terms = template.definition.terms(dealerId: template.dealerId)
        let termsJSON = String(decoding: try JSONEncoder().encode(terms), as: UTF8.self)
        for _ in 1...5 {
            let code = CouponCode.generate()
            let rows = try await connection.query(
                """
                WITH made AS (
                    INSERT INTO coupons (code, template_id, member_id, store_id, dealer_id, terms, valid_from, valid_until, status,
                                         issued_by, issued_why, issue_key, issued_at, updated_at)
                    VALUES (\(code), \(order.templateId), \(order.member.memberId), \(order.member.storeId), \(order.member.dealerId),
                            \(termsJSON)::jsonb, \(from), \(until), 'active', \(order.actor), \(order.why), \(order.key), \(now), \(now))
                    ON CONFLICT (code) DO NOTHING
                    RETURNING code
                )
                INSERT INTO coupon_history (code, at, kind, actor, store_id, detail)
                SELECT code, \(now), \(CouponIssuedKind.eventType), \(order.actor), \(order.member.storeId), \(order.why) FROM made
                RETURNING code
                """,
                logger: logger
            ).collect()
            guard !rows.isEmpty else { continue }  // a code already taken: draw another
            let coupon = coupon(code, order.templateId, terms, order.member, from: from, until: until, actor: order.actor, why: order.why, at: now)
            try await coupons.record(CouponIssuedKind.self, coupon, actor: order.actor, reason: order.why, on: connection)
            return (coupon, true)
        }
        throw ProblemDetails(status: .serviceUnavailable, detail: "No free coupon code was found; try again.")
    }

    /// The template as issuing sees it, with a clear refusal for each reason it cannot be
    /// issued to a member of `dealerId` by `role` (the budget itself is counted in `count`).
    /// Locked, it holds off other issues of it until the caller's transaction ends.
    func check(
        _ templateId: UUID,
        dealerId: String?,
        role: Role?,
        lock: Bool = false,
        on connection: PostgresConnection
    ) async throws
        -> Templates.View
    {
        let rows = try await connection.query(
            "SELECT \(unescaped: Templates.columns) FROM coupon_templates WHERE id = \(templateId) \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: logger
        )
        guard let template = try await rows.collect().first.map(Templates.view) else {
            throw ProblemDetails.validation(field: "templateId", "is not a coupon template")
        }
        if let dealer = template.dealerId, dealer != dealerId {
            throw ProblemDetails.validation(field: "templateId", "is another dealer's template")
        }
        if let role, !template.definition.issuers.contains(role.rawValue) {
            throw ProblemDetails.forbidden("A \(role.rawValue) may not issue \(template.definition.name).")
        }
        if let quantity = template.definition.quantity, template.issued >= quantity {
            // Used up already: refused without queueing behind the issues holding its row.
            throw usedUp(template.definition)
        }
        if template.paused { throw ProblemDetails.conflict("\(template.definition.name) is paused; no coupons are issued from it.") }
        if let until = template.definition.fixedUntil, until <= clock.now() {
            throw ProblemDetails.conflict("\(template.definition.name) was valid until \(until.formatted(.iso8601)); none can be issued now.")
        }
        return template
    }

    /// The budget, the member's limit and the guide's monthly allowance, each counted in one
    /// statement that refuses to pass its limit.
    private func count(_ order: Order, template: Templates.View, on connection: PostgresConnection) async throws {
        let definition = template.definition
        if let limit = definition.perMember {
            let counted = try await connection.query(
                """
                INSERT INTO member_issues AS m (template_id, member_id, issued) VALUES (\(order.templateId), \(order.member.memberId), 1)
                ON CONFLICT (template_id, member_id) DO UPDATE SET issued = m.issued + 1 WHERE m.issued < \(limit)
                RETURNING issued
                """,
                logger: logger
            ).collect()
            if counted.isEmpty { throw ProblemDetails.conflict("The member already has \(limit) of \(definition.name), as many as one member may.") }
        }
        if order.role == .guide, let allowance = definition.guideMonthly {
            let month = String(clock.now().formatted(.iso8601).prefix(7))
            let counted = try await connection.query(
                """
                INSERT INTO guide_issues AS g (template_id, guide_id, month, issued) VALUES (\(order.templateId), \(order.actor), \(month), 1)
                ON CONFLICT (template_id, guide_id, month) DO UPDATE SET issued = g.issued + 1 WHERE g.issued < \(allowance)
                RETURNING issued
                """,
                logger: logger
            ).collect()
            if counted.isEmpty { throw ProblemDetails.conflict("Your allowance of \(allowance) \(definition.name) for \(month) is used up.") }
        }
        // Last, so the template row (which every issue of it takes) is held for the least time.
        let budget = try await connection.query(
            """
            UPDATE coupon_templates SET issued = issued + 1
            WHERE id = \(order.templateId) AND NOT paused AND (quantity IS NULL OR issued < quantity) RETURNING issued
            """,
            logger: logger
        ).collect()
        if budget.isEmpty { throw usedUp(definition) }
    }

    private func usedUp(_ definition: TemplateDefinition) -> ProblemDetails {
        .conflict("The budget of \(definition.name) is used up: all \(definition.quantity ?? 0) are issued.")
    }

    /// Fixed dates, or `validDays` from the moment of issue.
    func validity(of definition: TemplateDefinition, from now: Date) -> (Date, Date) {
        if let days = definition.validDays { return (now, now.addingTimeInterval(TimeInterval(days) * 86400)) }
        return (definition.fixedFrom ?? now, definition.fixedUntil ?? now)
    }
}

extension TransactionLock.Space {
    /// A coupon's `Idempotency-Key`.
    static let issueKey = Self(23)
}
