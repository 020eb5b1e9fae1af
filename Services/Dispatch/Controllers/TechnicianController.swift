import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/technicians` (dealer admins and store managers their dealer's, HQ all),
/// `GET /api/v1/technicians/{id}` (the same, and the technician themselves) and
/// `PUT /api/v1/technicians/{id}/profile` (their dealer admin or HQ).
struct TechnicianController: Sendable {
    let technicians: Technicians

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("technicians").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin))
            .get(use: listTechnicians)
        api.group("technicians").add(middleware: RoleGate(.storeManager, .dealerAdmin, .technician, .hqAdmin))
            .get("{id}", use: showTechnician)
        api.group("technicians").add(middleware: RoleGate(.dealerAdmin, .hqAdmin))
            .put("{id}/profile", use: setProfile)
    }

    @Sendable func listTechnicians(_ request: Request, context: AftercareRequestContext) async throws -> Technicians.Listing {
        try await technicians.list(for: try context.requirePrincipal())
    }

    @Sendable func showTechnician(_ request: Request, context: AftercareRequestContext) async throws -> Technicians.View {
        try await technicians.show(try technicianID(context), for: try context.requirePrincipal())
    }

    @Sendable func setProfile(_ request: Request, context: AftercareRequestContext) async throws -> Technicians.View {
        let body = try await request.decodeJSON(as: ProfileRequest.self, context: context)
        return try await technicians.setProfile(try technicianID(context), body, by: try context.requirePrincipal())
    }

    private func technicianID(_ context: AftercareRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), validateCode(id, field: "id").isEmpty else {
            throw ProblemDetails.notFound("No such technician.")
        }
        return id
    }
}
