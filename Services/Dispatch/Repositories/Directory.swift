import AftercareContracts
import AftercareMessaging
import Foundation
import Logging
import PostgresNIO

/// Dispatch's view of the organisation, kept from membership's events: stores and their
/// time zones, members with their guide, tier and contact, their purchases, and the
/// technicians (whose service profiles dispatch keeps itself).
struct Directory: Sendable {
    let settings: DispatchSettings
    let logger: Logger

    func upsertStore(_ event: StoreOpened, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO stores (store_id, dealer_id, name, time_zone) VALUES (\(event.storeId), \(event.dealerId), \(event.name), \(event.timeZone))
            ON CONFLICT (store_id) DO UPDATE SET dealer_id = EXCLUDED.dealer_id, name = EXCLUDED.name, time_zone = EXCLUDED.time_zone
            """,
            logger: logger
        )
    }

    func upsertMember(_ event: MemberRegistered, at registeredAt: Date, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO members (member_id, guide_id, store_id, dealer_id, name, phone, registered_at)
            VALUES (\(event.memberId), \(event.guideId), \(event.storeId), \(event.dealerId), \(event.name), \(event.phone), \(registeredAt))
            ON CONFLICT (member_id) DO UPDATE SET guide_id = EXCLUDED.guide_id, store_id = EXCLUDED.store_id, dealer_id = EXCLUDED.dealer_id,
                name = EXCLUDED.name, phone = EXCLUDED.phone
            """,
            logger: logger
        )
    }

    func updateMember(_ event: MemberUpdated, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE members SET name = \(event.name), phone = \(event.phone) WHERE member_id = \(event.memberId)",
            logger: logger
        )
    }

    func reassignGuide(_ event: MemberGuideReassigned, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE members SET guide_id = \(event.toGuideId), store_id = \(event.storeId) WHERE member_id = \(event.memberId)",
            logger: logger
        )
    }

    /// The tier and the spend that qualified for it: the due list ranks members of a higher
    /// tier first, and a higher tier always took more spend to reach.
    func changeTier(_ event: TierChanged, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE members SET tier = \(event.toTier), tier_spend_cents = \(event.qualifyingSpendCents) WHERE member_id = \(event.memberId)",
            logger: logger
        )
    }

    func recordPurchase(_ event: PurchaseRecorded, on connection: PostgresConnection) async throws {
        let categories = Array(Set(event.items.map(\.category))).sorted()
        try await connection.query(
            """
            INSERT INTO purchases (order_id, member_id, categories, purchased_at) VALUES (\(event.orderId), \(event.memberId), \(categories), \(event.purchasedAt))
            ON CONFLICT (order_id) DO NOTHING
            """,
            logger: logger
        )
    }

    func refundPurchase(_ event: PurchaseRefunded, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE purchases SET refunded = true WHERE order_id = \(event.orderId)", logger: logger)
    }

    /// A technician who joins gets a profile that offers them nothing until their dealer
    /// admin names their skills; their home store is their first territory. Joining again
    /// (rehired) keeps the profile and makes them active.
    func technicianJoined(_ event: StaffJoined, on connection: PostgresConnection) async throws {
        guard event.role == .technician else { return }
        let territory = event.storeId.map { [$0] } ?? []
        let hours = try TechnicianHours.encode(WeeklyHours.standard)
        try await connection.query(
            """
            INSERT INTO technicians (technician_id, dealer_id, home_store, name, phone, active, territory, hours, visits_per_day)
            VALUES (\(event.staffId), \(event.dealerId), \(event.storeId), \(event.name), \(event.phone), true, \(territory), \(hours)::jsonb,
                    \(settings.defaultVisitsPerDay))
            ON CONFLICT (technician_id) DO UPDATE SET dealer_id = EXCLUDED.dealer_id, home_store = EXCLUDED.home_store, name = EXCLUDED.name,
                phone = EXCLUDED.phone, active = true
            """,
            logger: logger
        )
    }

    /// Answers whether the one who left was a technician (their seats then go back to be offered).
    func staffLeft(_ event: StaffLeft, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "UPDATE technicians SET active = false WHERE technician_id = \(event.staffId) AND active RETURNING technician_id",
            logger: logger
        )
        return try await rows.collect().count == 1
    }
}
