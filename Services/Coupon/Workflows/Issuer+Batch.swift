import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

extension Issuer {
    /// Issues `order` under a savepoint: a refusal (the budget used up, a limit reached, the
    /// template paused) is rolled back to it and answered, so the caller's transaction (a
    /// delivery, a check-in) goes on.
    func attempt(_ order: Order, on connection: PostgresConnection) async throws -> Result<Coupons.Coupon, ProblemDetails> {
        try await connection.query("SAVEPOINT issue_attempt", logger: logger)
        do {
            let (coupon, _) = try await issue(order, on: connection)
            try await connection.query("RELEASE SAVEPOINT issue_attempt", logger: logger)
            return .success(coupon)
        } catch let refusal as ProblemDetails {
            try await connection.query("ROLLBACK TO SAVEPOINT issue_attempt", logger: logger)
            return .failure(refusal)
        }
    }

    /// What one batch of a campaign came to.
    struct BatchOutcome: Sendable {
        let issued: [Coupons.Coupon]
        /// Members who already had this coupon from the batch's key, or as many of the
        /// template as one member may have.
        let skipped: Int
    }

    /// Issues one template to each of `members` (at most the budget's remainder: the caller
    /// asks with that in mind) in a few set-wide statements on the template's locked row:
    /// the same budget, per-member limit and once-per-key rules as one issue, at the speed a
    /// campaign to a million members needs. `key` gives each member's issue key.
    func issue(
        batch members: [MemberPlacement],
        template: Templates.View,
        actor: String,
        why: String,
        key: (String) -> String,
        on connection: PostgresConnection
    ) async throws -> BatchOutcome {
        var pending = try await withoutCoupon(members, key: key, on: connection)
        if let limit = template.definition.perMember { pending = try await withinLimit(pending, template.id, limit, on: connection) }
        let now = clock.now()
        let (from, until) = validity(of: template.definition, from: now)
        let terms = template.definition.terms(dealerId: template.dealerId)
        let termsJSON = String(decoding: try JSONEncoder().encode(terms), as: UTF8.self)
        var issued: [Coupons.Coupon] = []
        // A drawn code already taken leaves its member out of the insert; they draw again.
        for _ in 1...5 where !pending.isEmpty {
            let codes = pending.map { _ in CouponCode.generate() }
            let rows = try await connection.query(
                """
                WITH made AS (
                    INSERT INTO coupons (code, template_id, member_id, store_id, dealer_id, terms, valid_from, valid_until, status,
                                         issued_by, issued_why, issue_key, issued_at, updated_at)
                    SELECT c, \(template.id), m, s, d, \(termsJSON)::jsonb, \(from), \(until), 'active', \(actor), \(why), k, \(now), \(now)
                    FROM unnest(\(codes)::text[], \(pending.map(\.memberId))::text[], \(pending.map(\.storeId))::text[],
                                \(pending.map(\.dealerId))::text[], \(pending.map { key($0.memberId) })::text[]) AS x (c, m, s, d, k)
                    ON CONFLICT DO NOTHING
                    RETURNING code, member_id, store_id
                ), noted AS (
                    INSERT INTO coupon_history (code, at, kind, actor, store_id, detail)
                    SELECT code, \(now), \(CouponIssuedKind.eventType), \(actor), store_id, \(why) FROM made
                )
                SELECT code, member_id FROM made
                """,
                logger: logger
            ).collect()
            var made: [String: String] = [:]
            for row in rows {
                let (code, member) = try row.decode((String, String).self)
                made[member] = code
            }
            for member in pending {
                guard let code = made[member.memberId] else { continue }
                issued.append(coupon(code, template.id, terms, member, from: from, until: until, actor: actor, why: why, at: now))
            }
            pending.removeAll { made[$0.memberId] != nil }
        }
        if !pending.isEmpty { throw ProblemDetails(status: .serviceUnavailable, detail: "No free coupon codes were found; the batch is retried.") }
        if !issued.isEmpty {
            try await connection.query(
                "UPDATE coupon_templates SET issued = issued + \(issued.count) WHERE id = \(template.id)",
                logger: logger
            )
            let entries = issued.map { coupon in
                let event = Coupons.entry(CouponIssuedKind.self, coupon, actor: actor, reason: why)
                return Outbox.Entry(event.payload, aggregateID: event.aggregateID)
            }
            try await coupons.outbox.record(batch: entries, on: connection)
        }
        return BatchOutcome(issued: issued, skipped: members.count - issued.count)
    }

    /// The members who have no coupon under their key yet.
    private func withoutCoupon(
        _ members: [MemberPlacement],
        key: (String) -> String,
        on connection: PostgresConnection
    ) async throws
        -> [MemberPlacement]
    {
        let keys = members.map { key($0.memberId) }
        let rows = try await connection.query("SELECT issue_key FROM coupons WHERE issue_key = ANY(\(keys))", logger: logger).collect()
        let taken = Set(try rows.map { try $0.decode(String.self) })
        return members.filter { !taken.contains(key($0.memberId)) }
    }

    /// The members still below the per-member limit, each counted one more.
    private func withinLimit(
        _ members: [MemberPlacement],
        _ templateId: UUID,
        _ limit: Int,
        on connection: PostgresConnection
    ) async throws
        -> [MemberPlacement]
    {
        guard !members.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            INSERT INTO member_issues AS m (template_id, member_id, issued)
            SELECT \(templateId), member, 1 FROM unnest(\(members.map(\.memberId))::text[]) AS member
            ON CONFLICT (template_id, member_id) DO UPDATE SET issued = m.issued + 1 WHERE m.issued < \(limit)
            RETURNING member_id
            """,
            logger: logger
        ).collect()
        let counted = Set(try rows.map { try $0.decode(String.self) })
        return members.filter { counted.contains($0.memberId) }
    }

    /// A coupon as just issued.
    func coupon(
        _ code: String,
        _ templateId: UUID,
        _ terms: CouponTerms,
        _ member: MemberPlacement,
        from: Date,
        until: Date,
        actor: String,
        why: String,
        at now: Date
    ) -> Coupons.Coupon {
        Coupons.Coupon(
            code: code,
            templateId: templateId,
            terms: terms,
            memberId: member.memberId,
            storeId: member.storeId,
            dealerId: member.dealerId,
            validFrom: from,
            validUntil: until,
            status: .active,
            reservedFor: nil,
            issuedBy: actor,
            issuedWhy: why,
            issuedAt: now,
            guideId: member.guideId
        )
    }
}
