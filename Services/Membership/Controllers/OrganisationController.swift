import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/dealers` (HQ); `POST /api/v1/stores`, `GET /api/v1/stores/{id}`;
/// `POST /api/v1/staff`, `GET /api/v1/staff/{id}` (with a guide's invite code);
/// `POST /api/v1/staff/{id}/leave` (hands a guide's members over).
struct OrganisationController: Sendable {
    let organisation: Organisation

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("dealers").add(middleware: RoleGate(.hqAdmin)).post { request, context -> EditedResponse<NewDealer> in
            let body = try await request.decodeJSON(as: NewDealer.self, context: context)
            return EditedResponse(status: .created, response: try await organisation.createDealer(body, by: try context.requirePrincipal()))
        }
        let stores = api.group("stores").add(middleware: RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide, .service))
        stores.post { request, context -> EditedResponse<Organisation.Store> in
            let body = try await request.decodeJSON(as: NewStore.self, context: context)
            return EditedResponse(status: .created, response: try await organisation.createStore(body, by: try context.requirePrincipal()))
        }
        stores.get("{id}") { _, context -> Organisation.Store in
            guard let id = context.parameters.get("id") else { throw ProblemDetails.notFound("No such store.") }
            return try await organisation.store(id, by: try context.requirePrincipal())
        }
        let staff = api.group("staff").add(middleware: RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide, .service))
        staff.post { request, context -> EditedResponse<Organisation.StaffMember> in
            let body = try await request.decodeJSON(as: NewStaff.self, context: context)
            return EditedResponse(status: .created, response: try await organisation.addStaff(body, by: try context.requirePrincipal()))
        }
        staff.get("{id}") { _, context -> Organisation.StaffMember in
            guard let id = context.parameters.get("id") else { throw ProblemDetails.notFound("No such staff member.") }
            return try await organisation.staff(id, by: try context.requirePrincipal())
        }
        staff.post("{id}/leave") { request, context -> Organisation.Departure in
            guard let id = context.parameters.get("id") else { throw ProblemDetails.notFound("No such staff member.") }
            let body = try await request.decodeJSON(as: StaffDeparture.self, context: context)
            return try await organisation.leave(id, body, by: try context.requirePrincipal())
        }
    }
}
