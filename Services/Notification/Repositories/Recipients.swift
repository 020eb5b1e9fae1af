import AftercareContracts
import Foundation
import Logging
import PostgresNIO

/// A person a message can go to, as the projections know them at this moment.
struct Recipient: Sendable, Equatable {
    let id: String
    let kind: RecipientKind
    let phone: String?
    let name: String?
    let storeId: String?
    let dealerId: String?
    /// The wall clock quiet hours and dates are read on.
    let timeZone: String?
    /// Only members have these; staff alerts are critical or go to staff who work with them.
    var serviceAllowed = true
    var marketingAllowed = true
    var quietHours: QuietHours?
    var locale: String?
}

/// Contacts, consents and preferences, kept from membership events; never asked of another
/// service.
struct Recipients: Sendable {
    let logger: Logger

    /// Registration sets both the contact and the placement, each only over what an older
    /// event of this member wrote (`seq` is the member's event sequence): a retried
    /// registration arriving after an update keeps the update's phone and consents.
    func upsertMember(_ event: MemberRegistered, seq: Int64, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO members (member_id, phone, name, guide_id, store_id, dealer_id, time_zone, service_consent, marketing_consent, contact_seq, placement_seq)
            VALUES (\(event.memberId), \(event.phone), \(event.name), \(event.guideId), \(event.storeId), \(event.dealerId), \(event.timeZone),
                    \(event.serviceMessagesConsent), \(event.marketingConsent), \(seq), \(seq))
            ON CONFLICT (member_id) DO UPDATE SET
                phone = CASE WHEN members.contact_seq < EXCLUDED.contact_seq THEN EXCLUDED.phone ELSE members.phone END,
                name = CASE WHEN members.contact_seq < EXCLUDED.contact_seq THEN EXCLUDED.name ELSE members.name END,
                service_consent = CASE WHEN members.contact_seq < EXCLUDED.contact_seq THEN EXCLUDED.service_consent ELSE members.service_consent END,
                marketing_consent = CASE WHEN members.contact_seq < EXCLUDED.contact_seq THEN EXCLUDED.marketing_consent ELSE members.marketing_consent END,
                contact_seq = greatest(members.contact_seq, EXCLUDED.contact_seq),
                guide_id = CASE WHEN members.placement_seq < EXCLUDED.placement_seq THEN EXCLUDED.guide_id ELSE members.guide_id END,
                store_id = CASE WHEN members.placement_seq < EXCLUDED.placement_seq THEN EXCLUDED.store_id ELSE members.store_id END,
                dealer_id = coalesce(members.dealer_id, EXCLUDED.dealer_id),
                time_zone = coalesce(EXCLUDED.time_zone, members.time_zone),
                placement_seq = greatest(members.placement_seq, EXCLUDED.placement_seq)
            """,
            logger: logger
        )
    }

    func updateMember(_ event: MemberUpdated, seq: Int64, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO members (member_id, phone, name, service_consent, marketing_consent, contact_seq)
            VALUES (\(event.memberId), \(event.phone), \(event.name), \(event.serviceMessagesConsent), \(event.marketingConsent), \(seq))
            ON CONFLICT (member_id) DO UPDATE SET phone = EXCLUDED.phone, name = EXCLUDED.name,
                service_consent = EXCLUDED.service_consent, marketing_consent = EXCLUDED.marketing_consent, contact_seq = EXCLUDED.contact_seq
            WHERE members.contact_seq < EXCLUDED.contact_seq
            """,
            logger: logger
        )
    }

    func reassignGuide(_ event: MemberGuideReassigned, seq: Int64, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO members (member_id, guide_id, store_id, placement_seq) VALUES (\(event.memberId), \(event.toGuideId), \(event.storeId), \(seq))
            ON CONFLICT (member_id) DO UPDATE SET guide_id = EXCLUDED.guide_id, store_id = EXCLUDED.store_id, placement_seq = EXCLUDED.placement_seq
            WHERE members.placement_seq < EXCLUDED.placement_seq
            """,
            logger: logger
        )
    }

    func upsertStaff(_ event: StaffJoined, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO staff (staff_id, role, dealer_id, store_id, phone, name, active)
            VALUES (\(event.staffId), \(event.role.rawValue), \(event.dealerId), \(event.storeId), \(event.phone), \(event.name), true)
            ON CONFLICT (staff_id) DO UPDATE SET role = EXCLUDED.role, dealer_id = EXCLUDED.dealer_id, store_id = EXCLUDED.store_id,
                phone = EXCLUDED.phone, name = EXCLUDED.name, active = true
            """,
            logger: logger
        )
    }

    func staffLeft(_ event: StaffLeft, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE staff SET active = false WHERE staff_id = \(event.staffId)", logger: logger)
    }

    func upsertStore(_ event: StoreOpened, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO stores (store_id, dealer_id, time_zone) VALUES (\(event.storeId), \(event.dealerId), \(event.timeZone))
            ON CONFLICT (store_id) DO UPDATE SET dealer_id = EXCLUDED.dealer_id, time_zone = EXCLUDED.time_zone
            """,
            logger: logger
        )
    }

    /// Who `kind` is for this event: the member it names, their guide, the task's assignee,
    /// or the manager of the store. Nil when the projections know no such person (yet).
    func resolve(_ kind: RecipientKind, for facts: EventCatalog.Facts, on connection: PostgresConnection) async throws -> Recipient? {
        switch kind {
        case .member:
            guard let memberId = facts["memberId"] else { return nil }
            return try await member(memberId, on: connection)?.recipient
        case .guide:
            guard let memberId = facts["memberId"], let guide = try await member(memberId, on: connection)?.guideId else { return nil }
            return try await staff(whereSQL: "s.staff_id = $1", guide, kind: .guide, on: connection)
        case .assignee:
            guard let assignee = facts["assigneeId"] else { return nil }
            return try await staff(whereSQL: "s.staff_id = $1", assignee, kind: .assignee, on: connection)
        case .technician:
            guard let technician = facts["technicianId"] else { return nil }
            return try await staff(whereSQL: "s.staff_id = $1", technician, kind: .technician, on: connection)
        case .storeManager:
            var store = facts["storeId"]
            if store == nil, let memberId = facts["memberId"] { store = try await member(memberId, on: connection)?.recipient.storeId }
            guard let store else { return nil }
            return try await staff(whereSQL: "s.active AND s.store_id = $1 AND s.role = 'store_manager'", store, kind: .storeManager, on: connection)
        }
    }

    /// A member with their consents and preferences folded in.
    func member(_ memberId: String, on connection: PostgresConnection) async throws -> (recipient: Recipient, guideId: String?)? {
        let rows = try await connection.query(
            """
            SELECT m.member_id, m.phone, m.name, m.store_id, m.dealer_id, coalesce(m.time_zone, st.time_zone), m.guide_id,
                   m.service_consent AND NOT coalesce(p.service_opt_out, false),
                   m.marketing_consent AND NOT coalesce(p.marketing_opt_out, false),
                   p.quiet_start, p.quiet_end, p.locale
            FROM members m LEFT JOIN preferences p ON p.member_id = m.member_id LEFT JOIN stores st ON st.store_id = m.store_id
            WHERE m.member_id = \(memberId)
            """,
            logger: logger
        )
        for try await row in rows {
            let (id, phone, name, store, dealer, zone, guide, service, marketing, quietStart, quietEnd, locale) =
                try row.decode((String, String?, String?, String?, String?, String?, String?, Bool, Bool, Int?, Int?, String?).self)
            var recipient = Recipient(id: id, kind: .member, phone: phone, name: name, storeId: store, dealerId: dealer, timeZone: zone)
            recipient.serviceAllowed = service
            recipient.marketingAllowed = marketing
            if let quietStart, let quietEnd { recipient.quietHours = QuietHours(start: quietStart, end: quietEnd) }
            recipient.locale = locale
            return (recipient, guide)
        }
        return nil
    }

    /// A named person (a guide, an assignee) is found even after they left: the message is
    /// about work that is still theirs until someone hands it over. A role is filled only by
    /// active staff.
    private func staff(whereSQL: String, _ value: String, kind: RecipientKind, on connection: PostgresConnection) async throws -> Recipient? {
        var bindings = PostgresBindings()
        bindings.append(value)
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT s.staff_id, s.phone, s.name, s.store_id, s.dealer_id, st.time_zone
                    FROM staff s LEFT JOIN stores st ON st.store_id = s.store_id
                    WHERE \(whereSQL) ORDER BY s.staff_id LIMIT 1
                    """,
                binds: bindings
            ),
            logger: logger
        )
        for try await (id, phone, name, store, dealer, zone) in rows.decode((String, String?, String?, String?, String, String?).self) {
            return Recipient(id: id, kind: kind, phone: phone, name: name, storeId: store, dealerId: dealer, timeZone: zone)
        }
        return nil
    }

    /// A member's reply to an SMS: an unsubscribe keyword opts them out of marketing
    /// messages. Returns the member ids it applied to (one phone may be one member).
    func honourReply(from phone: String, text: String, at now: Date, on connection: PostgresConnection) async throws -> [String] {
        guard Self.isUnsubscribe(text) else { return [] }
        let phone = Self.e164(phone)
        let rows = try await connection.query(
            """
            INSERT INTO preferences (member_id, marketing_opt_out, updated_at)
            SELECT member_id, true, \(now) FROM members WHERE phone = \(phone)
            ON CONFLICT (member_id) DO UPDATE SET marketing_opt_out = true, updated_at = EXCLUDED.updated_at
            RETURNING member_id
            """,
            logger: logger
        )
        var members: [String] = []
        for try await id in rows.decode(String.self) { members.append(id) }
        return members
    }

    /// Gateways report the sender as `+8613812345678`, `008613812345678` or `13812345678`;
    /// membership publishes E.164.
    static func e164(_ raw: String) -> String {
        var digits = raw.filter { !" -()".contains($0) }
        if digits.hasPrefix("00") { digits = "+" + digits.dropFirst(2) }
        if !digits.hasPrefix("+"), digits.count == 11, digits.hasPrefix("1") { digits = "+86" + digits }
        return digits
    }

    /// "TD" (退订) is the mainland convention; the English words are accepted too.
    static func isUnsubscribe(_ text: String) -> Bool {
        ["TD", "退订", "STOP", "UNSUBSCRIBE"].contains(text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased())
    }
}
