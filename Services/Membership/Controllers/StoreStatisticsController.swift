import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

/// `GET /api/v1/stores/{id}/statistics?from=…&to=…`: members registered in the period, how
/// many of them were referred by a member (and the rate), member sales in the period, and
/// the share of the store's sales made by members on the days the store reported its total
/// (`PUT /api/v1/stores/{id}/sales/{yyyy-mm-dd}`, from its till or the dealer's ERP).
/// Store managers see their store, dealer admins their dealer's, HQ all.
struct StoreStatisticsController: Sendable {
    let context: MembershipContext

    struct Statistics: ResponseCodable, Sendable, Equatable {
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

    struct DailySales: ResponseCodable, ValidatedRequest, Sendable {
        let totalCents: Int64
        func validate() -> [FieldProblem] {
            (0...1_000_000_000_000).contains(totalCents) ? [] : [.init(field: "totalCents", message: "must be 0 to 1000000000000")]
        }
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("stores").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin)).get("{id}/statistics") { request, requestContext -> Statistics in
            guard let storeId = requestContext.parameters.get("id") else { throw ProblemDetails.notFound("No such store.") }
            var problems: [FieldProblem] = []
            guard let (from, to) = request.period(problems: &problems) else { throw ProblemDetails.validation(problems) }
            let caller = try requestContext.requirePrincipal()
            return try await context.transaction { connection in
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
                      (SELECT count(*) FROM members WHERE store_id = \(storeId) AND registered_at >= \(from) AND registered_at < \(to) AND referred_by IS NOT NULL),
                      (SELECT count(*) FROM purchases WHERE store_id = \(storeId) AND refunded_at IS NULL AND purchased_at >= \(from) AND purchased_at < \(to)),
                      (SELECT COALESCE(sum(amount_cents), 0)::int8 FROM purchases WHERE store_id = \(storeId) AND refunded_at IS NULL AND purchased_at >= \(from) AND purchased_at < \(to)),
                      (SELECT count(*) FROM members WHERE store_id = \(storeId)),
                      (SELECT count(*) FROM reported),
                      (SELECT COALESCE(sum(total_cents), 0)::int8 FROM reported),
                      (SELECT COALESCE(sum(p.amount_cents), 0)::int8 FROM purchases p
                       WHERE p.store_id = \(storeId) AND p.refunded_at IS NULL AND p.purchased_at >= \(from) AND p.purchased_at < \(to)
                         AND (p.purchased_at AT TIME ZONE (SELECT time_zone FROM stores WHERE id = \(storeId)))::date IN (SELECT day FROM reported))
                    """,
                    logger: context.logger
                )
                for try await (registered, referred, purchases, sales, total, days, storeSales, memberSalesOnDays) in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self) {
                    return Statistics(storeId: storeId, from: from, to: to, membersRegistered: registered, membersReferred: referred,
                                      referralRate: registered == 0 ? nil : Double(referred) / Double(registered),
                                      memberPurchases: purchases, memberSalesCents: sales, membersTotal: total, salesDaysReported: days,
                                      storeSalesCents: storeSales, memberShareOfSales: storeSales == 0 ? nil : Double(memberSalesOnDays) / Double(storeSales))
                }
                throw ProblemDetails.notFound("No such store.")
            }
        }
        api.group("stores").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin, .service)).put("{id}/sales/{day}") { request, requestContext -> DailySales in
            guard let storeId = requestContext.parameters.get("id") else { throw ProblemDetails.notFound("No such store.") }
            guard let day = requestContext.parameters.get("day"), ISO8601.day(day) != nil else {
                throw ProblemDetails.validation(field: "day", "must be a date, YYYY-MM-DD")
            }
            let body = try await request.decodeJSON(as: DailySales.self, context: requestContext)
            let caller = try requestContext.requirePrincipal()
            return try await context.transaction { connection in
                try await requireVisible(storeId, to: caller, on: connection)
                // A corrected total replaces the earlier one.
                try await connection.query(
                    """
                    INSERT INTO store_sales (store_id, day, total_cents, reported_at, reported_by) VALUES (\(storeId), \(day)::date, \(body.totalCents), \(context.clock.now()), \(caller.subject))
                    ON CONFLICT (store_id, day) DO UPDATE SET total_cents = EXCLUDED.total_cents, reported_at = EXCLUDED.reported_at, reported_by = EXCLUDED.reported_by
                    """,
                    logger: context.logger
                )
                return body
            }
        }
    }

    /// The store exists and is the caller's to see (HQ and services all, a dealer admin their
    /// dealer's, a store manager their own); otherwise it reads as not found.
    private func requireVisible(_ storeId: String, to caller: Principal, on connection: PostgresConnection) async throws {
        var dealer: String?
        for try await value in try await connection.query("SELECT dealer_id FROM stores WHERE id = \(storeId)", logger: context.logger).decode(String.self) { dealer = value }
        let visible = switch caller.role {
        case .hqAdmin, .service: dealer != nil
        case .dealerAdmin: dealer != nil && caller.dealerID == dealer
        default: dealer != nil && caller.storeID == storeId
        }
        guard visible else { throw ProblemDetails.notFound("No such store.") }
    }
}
