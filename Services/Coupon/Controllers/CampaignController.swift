import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/campaigns` (HQ, or a dealer admin for their dealer: one template to a
/// segment of members, issued in the background; `Idempotency-Key` honoured), `GET` (the
/// caller's campaigns with their progress), `GET /{id}` and `POST /{id}/stop`.
struct CampaignController: Sendable {
    let campaigns: Campaigns

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("campaigns").add(middleware: RoleGate(.hqAdmin, .dealerAdmin))
            .post(use: start)
            .get(use: list)
            .get("{id}", use: show)
            .post("{id}/stop", use: stop)
    }

    /// 202: the campaign runs on after the answer; 200 when the key names one already started.
    @Sendable func start(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<Campaigns.View> {
        let body = try await request.decodeJSON(as: CampaignRequest.self, context: context)
        let key = try request.idempotencyKey()
        let (campaign, created) = try await campaigns.start(body, by: try context.requirePrincipal(), key: key)
        return EditedResponse(status: created ? .accepted : .ok, response: campaign)
    }

    @Sendable func list(_ request: Request, context: AftercareRequestContext) async throws -> Campaigns.Listing {
        try await campaigns.list(for: try context.requirePrincipal())
    }

    @Sendable func show(_ request: Request, context: AftercareRequestContext) async throws -> Campaigns.View {
        try await campaigns.show(try id(context), for: try context.requirePrincipal())
    }

    @Sendable func stop(_ request: Request, context: AftercareRequestContext) async throws -> Campaigns.View {
        try await campaigns.stop(try id(context), by: try context.requirePrincipal())
    }

    private func id(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such campaign.") }
        return id
    }
}

/// `POST /api/v1/campaigns`: which template, and the members it goes to (every filter given
/// must hold; none at all is every member the caller reaches).
struct CampaignRequest: ValidatedRequest, Sendable {
    let name: String
    let templateId: UUID
    let segment: Campaigns.Segment?

    func validate() -> [FieldProblem] {
        var problems = validateName(name, field: "name")
        let filters = [("storeId", segment?.storeId), ("dealerId", segment?.dealerId), ("tier", segment?.tier), ("tag", segment?.tag)]
        for case let (field, value?) in filters { problems += validateCode(value, field: "segment.\(field)") }
        return problems
    }
}
