import AftercareRuntime
import Foundation
import Hummingbird

/// `POST` and `GET /api/v1/coupon-rules` (a template issued on a membership event: HQ for
/// every member, a dealer admin for their dealer's), `PUT /{id}` (switch it on or off).
struct RuleController: Sendable {
    let rules: RuleBook

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("coupon-rules").add(middleware: RoleGate(.hqAdmin, .dealerAdmin))
            .post(use: create)
            .get(use: list)
            .put("{id}", use: update)
    }

    @Sendable func create(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<IssueRules.Rule> {
        let body = try await request.decodeJSON(as: RuleRequest.self, context: context)
        return EditedResponse(status: .created, response: try await rules.create(body, by: try context.requirePrincipal()))
    }

    @Sendable func list(_ request: Request, context: AftercareRequestContext) async throws -> IssueRules.Listing {
        try await rules.list(for: try context.requirePrincipal())
    }

    @Sendable func update(_ request: Request, context: AftercareRequestContext) async throws -> IssueRules.Rule {
        let body = try await request.decodeJSON(as: RuleSwitch.self, context: context)
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such rule.") }
        return try await rules.setActive(id, body.active, by: try context.requirePrincipal())
    }
}
