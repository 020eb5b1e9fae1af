import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/stores/{id}/statistics?from=…&to=…`: members registered in the period, how
/// many of them were referred by a member (and the rate), and member sales in the period.
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
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("stores").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin)).get("{id}/statistics") { request, requestContext -> Statistics in
            guard let storeId = requestContext.parameters.get("id") else { throw ProblemDetails.notFound("No such store.") }
            var problems: [FieldProblem] = []
            guard let (from, to) = request.period(problems: &problems) else { throw ProblemDetails.validation(problems) }
            let caller = try requestContext.requirePrincipal()
            return try await context.transaction { connection in
                var dealer: String?
                for try await value in try await connection.query("SELECT dealer_id FROM stores WHERE id = \(storeId)", logger: context.logger).decode(String.self) { dealer = value }
                let visible = switch caller.role {
                case .hqAdmin: dealer != nil
                case .dealerAdmin: dealer != nil && caller.dealerID == dealer
                default: dealer != nil && caller.storeID == storeId
                }
                guard visible else { throw ProblemDetails.notFound("No such store.") }
                let rows = try await connection.query(
                    """
                    SELECT
                      (SELECT count(*) FROM members WHERE store_id = \(storeId) AND registered_at >= \(from) AND registered_at < \(to)),
                      (SELECT count(*) FROM members WHERE store_id = \(storeId) AND registered_at >= \(from) AND registered_at < \(to) AND referred_by IS NOT NULL),
                      (SELECT count(*) FROM purchases WHERE store_id = \(storeId) AND refunded_at IS NULL AND purchased_at >= \(from) AND purchased_at < \(to)),
                      (SELECT COALESCE(sum(amount_cents), 0)::int8 FROM purchases WHERE store_id = \(storeId) AND refunded_at IS NULL AND purchased_at >= \(from) AND purchased_at < \(to)),
                      (SELECT count(*) FROM members WHERE store_id = \(storeId))
                    """,
                    logger: context.logger
                )
                for try await (registered, referred, purchases, sales, total) in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
                    return Statistics(storeId: storeId, from: from, to: to, membersRegistered: registered, membersReferred: referred,
                                      referralRate: registered == 0 ? nil : Double(referred) / Double(registered),
                                      memberPurchases: purchases, memberSalesCents: sales, membersTotal: total)
                }
                throw ProblemDetails.notFound("No such store.")
            }
        }
    }
}
