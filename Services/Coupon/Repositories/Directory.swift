import AftercareContracts
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// The coupon service's view of the organisation, kept from membership's events: stores and
/// their dealer, members with their guide, store, dealer, tier and tags.
struct Directory: Sendable {
    let logger: Logger

    func upsertStore(_ event: StoreOpened, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO stores (store_id, dealer_id) VALUES (\(event.storeId), \(event.dealerId))
            ON CONFLICT (store_id) DO UPDATE SET dealer_id = EXCLUDED.dealer_id
            """,
            logger: logger
        )
    }

    func upsertMember(_ event: MemberRegistered, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO members (member_id, guide_id, store_id, dealer_id) VALUES (\(event.memberId), \(event.guideId), \(event.storeId), \(event.dealerId))
            ON CONFLICT (member_id) DO UPDATE SET guide_id = EXCLUDED.guide_id, store_id = EXCLUDED.store_id, dealer_id = EXCLUDED.dealer_id
            """,
            logger: logger
        )
    }

    func updateMember(_ event: MemberUpdated, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE members SET tags = \(event.tags) WHERE member_id = \(event.memberId)", logger: logger)
    }

    func reassignGuide(_ event: MemberGuideReassigned, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE members SET guide_id = \(event.toGuideId), store_id = \(event.storeId) WHERE member_id = \(event.memberId)",
            logger: logger
        )
    }

    func changeTier(_ event: TierChanged, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE members SET tier = \(event.toTier) WHERE member_id = \(event.memberId)", logger: logger)
    }

    /// A purchase, kept only when its member checked in at a store event in the 30 days
    /// before it (the events' statistics are all it is for).
    func recordPurchase(_ event: PurchaseRecorded, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO purchases (order_id, member_id, amount_cents, purchased_at)
            SELECT \(event.orderId), \(event.memberId), \(event.amountCents), \(event.purchasedAt)
            WHERE EXISTS (
                SELECT 1 FROM event_checkins WHERE member_id = \(event.memberId)
                AND checked_in_at <= \(event.purchasedAt) AND checked_in_at > \(event.purchasedAt) - interval '30 days'
            )
            ON CONFLICT (order_id) DO NOTHING
            """,
            logger: logger
        )
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

    func dealer(ofStore storeId: String, on connection: PostgresConnection) async throws -> String? {
        let rows = try await connection.query("SELECT dealer_id FROM stores WHERE store_id = \(storeId)", logger: logger)
        return try await rows.collect().first?.decode(String.self)
    }
}
