import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/service-types` and `GET /api/v1/service-types/{key}` for every staff role and
/// members (what can be booked, with its checklist); `PUT /api/v1/service-types/{key}` for HQ,
/// which adds a type or replaces it whole.
struct CatalogController: Sendable {
    let catalog: Catalog

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("service-types").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .technician, .hqAdmin, .service))
            .get(use: listTypes)
            .get("{key}", use: showType)
        api.group("service-types").add(middleware: RoleGate(.hqAdmin))
            .put("{key}", use: putType)
    }

    @Sendable func listTypes(_ request: Request, context: AftercareRequestContext) async throws -> Catalog.Listing {
        try await catalog.all()
    }

    @Sendable func showType(_ request: Request, context: AftercareRequestContext) async throws -> ServiceType {
        try await catalog.type(try key(context))
    }

    @Sendable func putType(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<ServiceType> {
        let key = try key(context)
        let definition = try await request.decodeJSON(as: ServiceTypeDefinition.self, context: context)
        let (type, created) = try await catalog.put(key, definition, by: try context.requirePrincipal())
        return EditedResponse(status: created ? .created : .ok, response: type)
    }

    private func key(_ context: AftercareRequestContext) throws -> String {
        guard let key = context.parameters.get("key"), validateCode(key, field: "key").isEmpty else {
            throw ProblemDetails.notFound("No such service type.")
        }
        return key
    }
}
