import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/coupon-templates` (HQ brand-wide, a dealer admin for their dealer),
/// `GET` them (staff: brand-wide and their dealer's), `GET` and `PUT /{id}` (a new
/// definition, a pause or a resume; issued coupons keep their terms).
struct TemplateController: Sendable {
    let templates: Templates

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let managers = RoleGate(.hqAdmin, .dealerAdmin)
        let staff = RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide)
        api.group("coupon-templates").add(middleware: staff)
            .get(use: list)
            .get("{id}", use: show)
        api.group("coupon-templates").add(middleware: managers)
            .post(use: create)
            .put("{id}", use: update)
    }

    @Sendable func create(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<Templates.View> {
        let body = try await request.decodeJSON(as: TemplateDefinition.self, context: context)
        return EditedResponse(status: .created, response: try await templates.create(body, by: try context.requirePrincipal()))
    }

    @Sendable func list(_ request: Request, context: AftercareRequestContext) async throws -> Templates.Listing {
        try await templates.list(for: try context.requirePrincipal())
    }

    @Sendable func show(_ request: Request, context: AftercareRequestContext) async throws -> Templates.View {
        try await templates.show(try templateID(context), for: try context.requirePrincipal())
    }

    @Sendable func update(_ request: Request, context: AftercareRequestContext) async throws -> Templates.View {
        let body = try await request.decodeJSON(as: TemplateUpdate.self, context: context)
        return try await templates.update(
            try templateID(context),
            definition: body.definition,
            paused: body.paused,
            by: try context.requirePrincipal()
        )
    }

    private func templateID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such template.") }
        return id
    }
}
