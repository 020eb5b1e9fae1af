import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/dealers` (HQ); `POST /api/v1/stores`, `GET /api/v1/stores/{id}`;
/// `POST /api/v1/staff`, `GET /api/v1/staff/{id}` (with a guide's invite code);
/// `POST /api/v1/staff/{id}/leave` (hands a guide's members over).
struct OrganisationController: Sendable {
    let organisation: Organisation

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("dealers").add(middleware: RoleGate(.hqAdmin))
            .post(use: createDealer)
        api.group("stores").add(middleware: RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide, .service))
            .post(use: createStore)
            .get("{id}", use: showStore)
        api.group("staff").add(middleware: RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide, .service))
            .post(use: addStaff)
            .get("{id}", use: showStaffMember)
            .post("{id}/leave", use: recordDeparture)
    }

    @Sendable func createDealer(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<NewDealer> {
        let body = try await request.decodeJSON(as: NewDealer.self, context: context)
        return EditedResponse(status: .created, response: try await organisation.createDealer(body, by: try context.requirePrincipal()))
    }

    @Sendable func createStore(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<Organisation.Store> {
        let body = try await request.decodeJSON(as: NewStore.self, context: context)
        return EditedResponse(status: .created, response: try await organisation.createStore(body, by: try context.requirePrincipal()))
    }

    @Sendable func showStore(_ request: Request, context: AftercareRequestContext) async throws -> Organisation.Store {
        guard let id = context.parameters.get("id") else { throw ProblemDetails.notFound("No such store.") }
        return try await organisation.store(id, by: try context.requirePrincipal())
    }

    @Sendable func addStaff(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<Organisation.StaffMember> {
        let body = try await request.decodeJSON(as: NewStaff.self, context: context)
        return EditedResponse(status: .created, response: try await organisation.addStaff(body, by: try context.requirePrincipal()))
    }

    @Sendable func showStaffMember(_ request: Request, context: AftercareRequestContext) async throws -> Organisation.StaffMember {
        guard let id = context.parameters.get("id") else { throw ProblemDetails.notFound("No such staff member.") }
        return try await organisation.staff(id, by: try context.requirePrincipal())
    }

    @Sendable func recordDeparture(_ request: Request, context: AftercareRequestContext) async throws -> Organisation.Departure {
        guard let id = context.parameters.get("id") else { throw ProblemDetails.notFound("No such staff member.") }
        let body = try await request.decodeJSON(as: StaffDeparture.self, context: context)
        return try await organisation.leave(id, body, by: try context.requirePrincipal())
    }
}
