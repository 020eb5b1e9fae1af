import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/service-due`: the members due or overdue for a recurring service, for a
/// guide (their bound members), a store manager (the store), a dealer admin (the dealer, or
/// one of its stores) or HQ (a store it names); cursor-paged. The list a guide opens to gift
/// service coupons.
struct ServiceDueController: Sendable {
    let due: ServiceDue

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("service-due").add(middleware: RoleGate(.guide, .storeManager, .dealerAdmin, .hqAdmin))
            .get(use: dueList)
    }

    @Sendable func dueList(_ request: Request, context: AftercareRequestContext) async throws -> ServiceDue.Page {
        let query = request.uri.queryParameters
        let limit = try request.integerQuery("limit", in: 1...200) ?? 50
        var problems: [FieldProblem] = []
        let storeId = query.get("storeId").map { String($0) }
        if let storeId { problems += validateCode(storeId, field: "storeId") }
        let cursor = query.get("cursor").map { String($0) }
        let after = cursor.flatMap(ServiceDue.Cursor.init)
        if cursor != nil, after == nil { problems.append(.init(field: "cursor", message: "is not a cursor this list gave out")) }
        if !problems.isEmpty { throw ProblemDetails.validation(problems) }
        return try await due.page(for: try context.requirePrincipal(), storeId: storeId, limit: limit, after: after)
    }
}
