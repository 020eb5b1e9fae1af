import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/stores/{id}/statistics?from=…&to=…`: members registered in the period, how
/// many of them were referred by a member (and the rate), member sales in the period, and
/// the share of the store's sales made by members on the days the store reported its total
/// (`PUT /api/v1/stores/{id}/sales/{yyyy-mm-dd}`, from its till or the dealer's ERP).
/// Store managers see their store, dealer admins their dealer's, HQ all.
struct StoreStatisticsController: Sendable {
    let statistics: StoreStatistics

    struct DailySales: ResponseCodable, ValidatedRequest, Sendable {
        let totalCents: Int64
        func validate() -> [FieldProblem] {
            (0...1_000_000_000_000).contains(totalCents) ? [] : [.init(field: "totalCents", message: "must be 0 to 1000000000000")]
        }
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("stores").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin))
            .get("{id}/statistics", use: showStatistics)
        api.group("stores").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin, .service))
            .put("{id}/sales/{day}", use: reportDailySales)
    }

    @Sendable func showStatistics(_ request: Request, context: AftercareRequestContext) async throws -> StoreStatistics.Report {
        guard let storeId = context.parameters.get("id") else { throw ProblemDetails.notFound("No such store.") }
        var problems: [FieldProblem] = []
        guard let (from, to) = request.period(problems: &problems) else { throw ProblemDetails.validation(problems) }
        return try await statistics.report(storeId, from: from, to: to, by: try context.requirePrincipal())
    }

    @Sendable func reportDailySales(_ request: Request, context: AftercareRequestContext) async throws -> DailySales {
        guard let storeId = context.parameters.get("id") else { throw ProblemDetails.notFound("No such store.") }
        guard let day = context.parameters.get("day"), ISO8601.day(day) != nil else {
            throw ProblemDetails.validation(field: "day", "must be a date, YYYY-MM-DD")
        }
        let body = try await request.decodeJSON(as: DailySales.self, context: context)
        try await statistics.recordDailySales(storeId, day: day, totalCents: body.totalCents, by: try context.requirePrincipal())
        return body
    }
}
