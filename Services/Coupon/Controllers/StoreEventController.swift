import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/store-events` (a store's manager, its dealer's admin, HQ), `GET` (staff:
/// their scope's, `storeId` to narrow; members: the events they are invited to), `GET /{id}`,
/// `POST /{id}/invitations` (guides their members, store staff their store's),
/// `POST /{id}/check-ins` (a member with the event's code, or staff naming the member; the
/// first gives the gift) and `GET /{id}/statistics` (staff).
struct StoreEventController: Sendable {
    let events: StoreEvents

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let staff = RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide)
        let everyone = RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide, .member)
        api.group("store-events").add(middleware: RoleGate(.hqAdmin, .dealerAdmin, .storeManager))
            .post(use: create)
        api.group("store-events").add(middleware: staff)
            .post("{id}/invitations", use: invite)
            .get("{id}/statistics", use: statistics)
        api.group("store-events").add(middleware: everyone)
            .get(use: list)
            .get("{id}", use: show)
            .post("{id}/check-ins", use: checkIn)
    }

    @Sendable func create(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<StoreEvents.View> {
        let body = try await request.decodeJSON(as: StoreEventRequest.self, context: context)
        return EditedResponse(status: .created, response: try await events.create(body, by: try context.requirePrincipal()))
    }

    @Sendable func list(_ request: Request, context: AftercareRequestContext) async throws -> StoreEvents.Listing {
        let storeId = request.uri.queryParameters.get("storeId").map { String($0) }
        if let storeId, !validateCode(storeId, field: "storeId").isEmpty { throw ProblemDetails.validation(field: "storeId", "must be a store id") }
        return try await events.list(storeId: storeId, for: try context.requirePrincipal())
    }

    @Sendable func show(_ request: Request, context: AftercareRequestContext) async throws -> StoreEvents.View {
        try await events.show(try id(context), for: try context.requirePrincipal())
    }

    @Sendable func invite(_ request: Request, context: AftercareRequestContext) async throws -> StoreEvents.Invited {
        let body = try await request.decodeJSON(as: InvitationRequest.self, context: context)
        return try await events.invite(try id(context), body, by: try context.requirePrincipal())
    }

    /// 201 for the first check-in (with the gift), 200 for every scan after it.
    @Sendable func checkIn(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<StoreEvents.CheckIn> {
        let body = try await request.decodeJSON(as: CheckInRequest.self, context: context)
        let (checkIn, created) = try await events.checkIn(try id(context), body, by: try context.requirePrincipal())
        return EditedResponse(status: created ? .created : .ok, response: checkIn)
    }

    @Sendable func statistics(_ request: Request, context: AftercareRequestContext) async throws -> StoreEvents.Statistics {
        try await events.statistics(try id(context), for: try context.requirePrincipal())
    }

    private func id(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such event.") }
        return id
    }
}
