import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/reports/callback-sla?from=…&to=…&groupBy=store|dealer` for store managers,
/// dealer admins and HQ, each within their scope.
struct SLAReportController: Sendable {
    let sla: CallbackSLA

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("reports/callback-sla").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin)).get(use: report)
    }

    @Sendable func report(_ request: Request, context: AftercareRequestContext) async throws -> CallbackSLA.Report {
        var problems: [FieldProblem] = []
        let period = request.period(problems: &problems)
        let groupBy = CallbackSLA.Grouping(rawValue: request.uri.queryParameters.get("groupBy") ?? "store")
        if groupBy == nil { problems.append(.init(field: "groupBy", message: "must be store or dealer")) }
        guard problems.isEmpty, let (from, to) = period, let groupBy else { throw ProblemDetails.validation(problems) }
        return try await sla.report(from: from, to: to, groupBy: groupBy, for: try context.requirePrincipal())
    }
}
