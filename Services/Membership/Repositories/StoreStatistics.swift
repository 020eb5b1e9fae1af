import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

/// A store's membership figures for a period, and the daily sales totals the store reports
/// (from its till or the dealer's ERP) that the members' share of sales is measured on.
/// Stores outside the caller's reach read as not found.
struct StoreStatistics: Sendable {
    let dependencies: MembershipDependencies

    struct Report: ResponseCodable, Sendable, Equatable {
        let storeId: String
        let from: Date
        let to: Date
        let membersRegistered: Int64
        let membersReferred: Int64
        let referralRate: Double?
        let memberPurchases: Int64
        let memberSalesCents: Int64
        let membersTotal: Int64
        /// Local days in the period with a reported store total, and those totals.
        let salesDaysReported: Int64
        let storeSalesCents: Int64
        /// Member sales on those same days, over the store's total; nil without totals.
        let memberShareOfSales: Double?
    }

    /// Members registered in `from..<to`, how many a member referred, member sales (refunds
    /// left out), and the members' share of the store's sales on the days it reported.
    func report(_ storeId: String, from: Date, to: Date, by caller: Principal) async throws -> Report {
        try await dependencies.transaction { connection in
            try await requireVisible(storeId, to: caller, on: connection)
            let rows = try await connection.query(
                """
                WITH reported AS (
                    -- whole local days of the store inside the period
                    SELECT s.day, s.total_cents FROM store_sales s JOIN stores st ON st.id = s.store_id
                    WHERE s.store_id = \(storeId) AND s.day >= (\(from)::timestamptz AT TIME ZONE st.time_zone)::date
                      AND (s.day + 1) <= (\(to)::timestamptz AT TIME ZONE st.time_zone)::date
                )
                SELECT
                  (SELECT count(*) FROM members WHERE store_id = \(storeId) AND registered_at >= \(from) AND registered_at < \(to)),
                  (SELECT count(*) FROM members WHERE store_id = \(storeId) AND registered_at >= \(from) AND registered_at < \(to)
                     AND referred_by IS NOT NULL),
                  (SELECT count(*) FROM purchases WHERE store_id = \(storeId) AND refunded_at IS NULL
                     AND purchased_at >= \(from) AND purchased_at < \(to)),
                  (SELECT COALESCE(sum(amount_cents), 0)::int8 FROM purchases WHERE store_id = \(storeId) AND refunded_at IS NULL
                     AND purchased_at >= \(from) AND purchased_at < \(to)),
                  (SELECT count(*) FROM members WHERE store_id = \(storeId)),
                  (SELECT count(*) FROM reported),
                  (SELECT COALESCE(sum(total_cents), 0)::int8 FROM reported),
                  (SELECT COALESCE(sum(p.amount_cents), 0)::int8 FROM purchases p
                   WHERE p.store_id = \(storeId) AND p.refunded_at IS NULL AND p.purchased_at >= \(from) AND p.purchased_at < \(to)
                     AND (p.purchased_at AT TIME ZONE (SELECT time_zone FROM stores WHERE id = \(storeId)))::date IN (SELECT day FROM reported))
                """,
                logger: dependencies.logger
            )
            let figures = rows.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
            for try await (registered, referred, purchases, sales, total, days, storeSales, memberSalesOnDays) in figures {
                return Report(
                    storeId: storeId,
                    from: from,
                    to: to,
                    membersRegistered: registered,
                    membersReferred: referred,
                    referralRate: registered == 0 ? nil : Double(referred) / Double(registered),
                    memberPurchases: purchases,
                    memberSalesCents: sales,
                    membersTotal: total,
                    salesDaysReported: days,
                    storeSalesCents: storeSales,
                    memberShareOfSales: storeSales == 0 ? nil : Double(memberSalesOnDays) / Double(storeSales)
                )
            }
            throw ProblemDetails.notFound("No such store.")
        }
    }

    /// Records the store's sales total for a local day (`YYYY-MM-DD`); a corrected total
    /// replaces the earlier one.
    func recordDailySales(_ storeId: String, day: String, totalCents: Int64, by caller: Principal) async throws {
        try await dependencies.transaction { connection in
            try await requireVisible(storeId, to: caller, on: connection)
            try await connection.query(
                """
                INSERT INTO store_sales (store_id, day, total_cents, reported_at, reported_by)
                VALUES (\(storeId), \(day)::date, \(totalCents), \(dependencies.clock.now()), \(caller.subject))
                ON CONFLICT (store_id, day) DO UPDATE
                SET total_cents = EXCLUDED.total_cents, reported_at = EXCLUDED.reported_at, reported_by = EXCLUDED.reported_by
                """,
                logger: dependencies.logger
            )
        }
    }

    /// The store exists and is the caller's to see (HQ and services all, a dealer admin their
    /// dealer's, a store manager their own); otherwise it reads as not found.
    private func requireVisible(_ storeId: String, to caller: Principal, on connection: PostgresConnection) async throws {
        var dealer: String?
        let rows = try await connection.query("SELECT dealer_id FROM stores WHERE id = \(storeId)", logger: dependencies.logger)
        for try await value in rows.decode(String.self) { dealer = value }
        let visible =
            switch caller.role {
            case .hqAdmin, .service: dealer != nil
            case .dealerAdmin: dealer != nil && caller.dealerID == dealer
            default: dealer != nil && caller.storeID == storeId
            }
        guard visible else { throw ProblemDetails.notFound("No such store.") }
    }
}
