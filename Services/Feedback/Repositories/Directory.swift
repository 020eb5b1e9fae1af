import AftercareContracts
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// The feedback service's view of the organisation, kept from membership events.
struct Directory: Sendable {
    let logger: Logger

    func upsertMember(_ event: MemberRegistered, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO members (member_id, guide_id, store_id, dealer_id) VALUES (\(event.memberId), \(event.guideId), \(event.storeId), \(event.dealerId))
            ON CONFLICT (member_id) DO UPDATE SET guide_id = EXCLUDED.guide_id, store_id = EXCLUDED.store_id, dealer_id = EXCLUDED.dealer_id
            """,
            logger: logger
        )
    }

    func reassignGuide(_ event: MemberGuideReassigned, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE members SET guide_id = \(event.toGuideId), store_id = \(event.storeId) WHERE member_id = \(event.memberId)",
            logger: logger
        )
    }

    func upsertStaff(_ event: StaffJoined, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO staff (staff_id, role, dealer_id, store_id, active) VALUES (\(event.staffId), \(event.role.rawValue), \(event.dealerId), \(event.storeId), true)
            ON CONFLICT (staff_id) DO UPDATE SET role = EXCLUDED.role, dealer_id = EXCLUDED.dealer_id, store_id = EXCLUDED.store_id, active = true
            """,
            logger: logger
        )
    }

    func staffLeft(_ event: StaffLeft, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE staff SET active = false WHERE staff_id = \(event.staffId)", logger: logger)
    }

    func member(_ memberId: String, on connection: PostgresConnection) async throws -> MemberPlacement? {
        let rows = try await connection.query(
            "SELECT member_id, guide_id, store_id, dealer_id FROM members WHERE member_id = \(memberId)",
            logger: logger
        )
        for try await (id, guide, store, dealer) in rows.decode((String, String?, String, String).self) {
            return MemberPlacement(memberId: id, guideId: guide, storeId: store, dealerId: dealer)
        }
        return nil
    }

    /// Who stands on each rung for this member right now: a guide who left is no rung.
    func ladder(for member: MemberPlacement, on connection: PostgresConnection) async throws -> Ladder {
        var bindings = PostgresBindings()
        bindings.append(member.guideId)
        bindings.append(member.storeId)
        bindings.append(member.dealerId)
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT (\(Self.rungSQL(.guide, of: "$1::text"))), (\(Self.rungSQL(.storeManager, of: "$2::text"))), (\(Self.rungSQL(.dealerAdmin, of: "$3::text")))
                    """,
                binds: bindings
            ),
            logger: logger
        )
        for try await (guide, manager, admin) in rows.decode((String?, String?, String?).self) {
            return Ladder(guide: guide, storeManager: manager, dealerAdmin: admin)
        }
        return Ladder()
    }

    /// The person on one rung, as a subquery over `expression` (the member's guide id, their
    /// store id or their dealer id): an active staff member of that role, the first by id
    /// when there are several. The one definition of a rung, for every query that needs one.
    static func rungSQL(_ level: CallbackLevel, of expression: String) -> String {
        switch level {
        case .guide: "SELECT staff_id FROM staff WHERE active AND role = 'guide' AND staff_id = \(expression) LIMIT 1"
        case .storeManager:
            "SELECT staff_id FROM staff WHERE active AND role = 'store_manager' AND store_id = \(expression) ORDER BY staff_id LIMIT 1"
        case .dealerAdmin: "SELECT staff_id FROM staff WHERE active AND role = 'dealer_admin' AND dealer_id = \(expression) ORDER BY staff_id LIMIT 1"
        case .hqDesk: "SELECT NULL::text AS staff_id"
        }
    }

    func upsertStore(_ event: StoreOpened, on connection: PostgresConnection) async throws {
        let hours = try event.businessHours.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await connection.query(
            """
            INSERT INTO stores (store_id, dealer_id, time_zone, business_hours) VALUES (\(event.storeId), \(event.dealerId), \(event.timeZone), \(hours)::jsonb)
            ON CONFLICT (store_id) DO UPDATE SET dealer_id = EXCLUDED.dealer_id, time_zone = EXCLUDED.time_zone, business_hours = EXCLUDED.business_hours
            """,
            logger: logger
        )
    }

    /// Whether the member's store is closed at `instant` by its published hours. A store
    /// without hours (or not yet known here) counts as open: the ladder starts at the guide.
    func storeIsClosed(_ storeId: String, at instant: Date, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT time_zone, business_hours::text FROM stores WHERE store_id = \(storeId)",
            logger: logger
        )
        for try await (zone, hours) in rows.decode((String, String?).self) {
            guard let hours, let timeZone = TimeZone(checking: zone) else { return false }
            let businessHours = try JSONDecoder().decode(BusinessHours.self, from: Data(hours.utf8))
            return !businessHours.isOpen(at: instant, in: timeZone)
        }
        return false
    }
}
