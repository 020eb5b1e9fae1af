import AftercareContracts
import AftercareMessaging
import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

extension StoreEvents {
    struct CheckIn: ResponseCodable, Sendable, Equatable {
        let eventId: UUID
        let memberId: String
        let invited: Bool
        let checkedInAt: Date
        let checkedInBy: String
        /// The gift issued at the first check-in.
        let couponCode: String?
        /// Why no gift was issued (its budget used up, the template paused).
        let giftRefusal: String?
    }

    struct Statistics: ResponseCodable, Sendable, Equatable {
        let eventId: UUID
        let invited: Int
        let checkedIn: Int
        let invitedCheckedIn: Int
        /// Invited members who checked in, of those invited (0 to 1).
        let checkInRate: Double
        let walkIns: Int
        let giftsIssued: Int
        let giftsRedeemed: Int
        /// Attendees' purchases within 30 days after their check-in.
        let purchases: Int
        let buyers: Int
        let purchasedCents: Int64
    }

    /// Check-in opens an hour before the event starts and closes when it ends.
    static let opensBefore: TimeInterval = 3600

    /// A member's check-in: with their own token and the event's code, or by staff of the
    /// event's store (or its dealer, or HQ) naming them. The first issues the gift once
    /// (issue key `event/<id>/<member>`); later scans answer that first check-in. The event's
    /// capacity is a conditional counter, so racing check-ins never pass it.
    func checkIn(_ id: UUID, _ request: CheckInRequest, by caller: Principal) async throws -> (CheckIn, created: Bool) {
        try await database.transaction(logger: logger) { connection in
            let event = try await stored(id, on: connection)
            let memberId = try attendee(event, request, by: caller)
            guard let member = try await directory.member(memberId, on: connection), member.dealerId == event.dealerId else {
                throw ProblemDetails.validation(field: "memberId", "is not a member of this event's dealer")
            }
            let now = clock.now()
            guard event.startsAt.addingTimeInterval(-Self.opensBefore) <= now, now < event.endsAt else {
                throw ProblemDetails.conflict("Check-in for \(event.name) is open from an hour before its start until its end.")
            }
            let inserted = try await connection.query(
                """
                INSERT INTO event_checkins (event_id, member_id, invited, checked_in_at, checked_in_by)
                SELECT \(id), \(memberId), EXISTS (SELECT 1 FROM event_invitations WHERE event_id = \(id) AND member_id = \(memberId)),
                       \(now), \(caller.subject)
                ON CONFLICT DO NOTHING
                RETURNING invited
                """,
                logger: logger
            ).collect()
            guard let invited = try inserted.first?.decode(Bool.self) else {
                return (try await existing(id, memberId, on: connection), false)
            }
            let room = try await connection.query(
                """
                UPDATE store_events SET checked_in = checked_in + 1
                WHERE id = \(id) AND (capacity IS NULL OR checked_in < capacity) RETURNING checked_in
                """,
                logger: logger
            ).collect()
            if room.isEmpty { throw ProblemDetails.conflict("\(event.name) is full: all \(event.capacity ?? 0) places are taken.") }
            let (code, refusal) = try await gift(event, member, on: connection)
            try await connection.query(
                "UPDATE event_checkins SET coupon_code = \(code), gift_refusal = \(refusal) WHERE event_id = \(id) AND member_id = \(memberId)",
                logger: logger
            )
            let checkIn = CheckIn(
                eventId: id,
                memberId: memberId,
                invited: invited,
                checkedInAt: now,
                checkedInBy: caller.subject,
                couponCode: code,
                giftRefusal: refusal
            )
            let payload = StoreEventCheckedIn(
                eventId: id,
                memberId: memberId,
                storeId: event.storeId,
                dealerId: event.dealerId,
                invited: invited,
                checkedInAt: now,
                checkedInBy: caller.subject,
                couponCode: code,
                giftRefusal: refusal
            )
            try await outbox.record(payload, aggregateID: "store-event-\(id.lowercasedString)", on: connection)
            return (checkIn, true)
        }
    }

    /// Who is checking in: the member themselves (with the event's code) or the member staff
    /// of the event's scope name.
    private func attendee(_ event: View, _ request: CheckInRequest, by caller: Principal) throws -> String {
        if caller.role == .member {
            guard let given = request.code, given == event.checkInCode else {
                throw ProblemDetails.validation(field: "code", "is not this event's check-in code")
            }
            return caller.subject
        }
        guard Self.sees(caller, event) else { throw ProblemDetails.notFound("No such event.") }
        guard let memberId = request.memberId else { throw ProblemDetails.validation(field: "memberId", "is required when staff check a member in") }
        return memberId
    }

    /// The event's gift for this member, once (its issue key); a refusal (the budget used
    /// up, the template paused or ended) leaves the check-in standing.
    private func gift(_ event: View, _ member: MemberPlacement, on connection: PostgresConnection) async throws -> (String?, String?) {
        let order = Issuer.Order(
            templateId: event.giftTemplateId,
            member: member,
            actor: "store-event-\(event.id.lowercasedString)",
            role: nil,
            why: "event: \(event.name)",
            key: "event/\(event.id.lowercasedString)/\(member.memberId)"
        )
        switch try await issuer.attempt(order, on: connection) {
        case .success(let coupon):
            return (coupon.code, nil)
        case .failure(let refusal):
            logger.notice(
                "event gift refused",
                metadata: ["event": "\(event.id)", "member": "\(member.memberId)", "reason": "\(refusal.detail ?? "")"]
            )
            return (nil, refusal.detail ?? refusal.title)
        }
    }

    private func existing(_ id: UUID, _ memberId: String, on connection: PostgresConnection) async throws -> CheckIn {
        let rows = try await connection.query(
            """
            SELECT invited, checked_in_at, checked_in_by, coupon_code, gift_refusal FROM event_checkins
            WHERE event_id = \(id) AND member_id = \(memberId)
            """,
            logger: logger
        ).collect()
        guard let (invited, at, by, code, refusal) = try rows.first?.decode((Bool, Date, String, String?, String?).self) else {
            throw ProblemDetails.notFound("No such check-in.")
        }
        return CheckIn(eventId: id, memberId: memberId, invited: invited, checkedInAt: at, checkedInBy: by, couponCode: code, giftRefusal: refusal)
    }

    /// Invited, checked in, the rate, gifts issued and redeemed, and attendees' purchases in
    /// the 30 days after their check-in (from membership's purchase events).
    func statistics(_ id: UUID, for caller: Principal) async throws -> Statistics {
        try await database.transaction(logger: logger) { connection in
            let event = try await stored(id, on: connection)
            guard Self.sees(caller, event) else { throw ProblemDetails.notFound("No such event.") }
            let rows = try await connection.query(
                """
                WITH attended AS (SELECT * FROM event_checkins WHERE event_id = \(id)),
                bought AS (
                    SELECT p.member_id, p.amount_cents FROM attended a JOIN purchases p ON p.member_id = a.member_id
                    AND p.purchased_at >= a.checked_in_at AND p.purchased_at < a.checked_in_at + interval '30 days'
                )
                SELECT (SELECT count(*)::int FROM attended), (SELECT count(*)::int FROM attended WHERE invited),
                       (SELECT count(coupon_code)::int FROM attended),
                       (SELECT count(*)::int FROM attended a JOIN coupons k ON k.code = a.coupon_code WHERE k.status = 'redeemed'),
                       (SELECT count(*)::int FROM bought), (SELECT count(DISTINCT member_id)::int FROM bought),
                       (SELECT coalesce(sum(amount_cents), 0)::bigint FROM bought)
                """,
                logger: logger
            ).collect()
            guard
                let (checkedIn, invitedIn, issued, redeemed, purchases, buyers, cents) = try rows.first?.decode(
                    (Int, Int, Int, Int, Int, Int, Int64).self
                )
            else { throw ProblemDetails.notFound("No such event.") }
            return Statistics(
                eventId: id,
                invited: event.invited,
                checkedIn: checkedIn,
                invitedCheckedIn: invitedIn,
                checkInRate: event.invited == 0 ? 0 : Double(invitedIn) / Double(event.invited),
                walkIns: checkedIn - invitedIn,
                giftsIssued: issued,
                giftsRedeemed: redeemed,
                purchases: purchases,
                buyers: buyers,
                purchasedCents: cents
            )
        }
    }
}

/// `POST /api/v1/store-events/{id}/check-ins`: a member sends the event's `code` (scanned
/// from its QR code); staff send the `memberId`.
struct CheckInRequest: ValidatedRequest, Sendable {
    let memberId: String?
    let code: String?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if let memberId { problems += validateCode(memberId, field: "memberId") }
        if let code { problems += validateCode(code, field: "code") }
        return problems
    }
}
