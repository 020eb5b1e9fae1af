import AftercareRuntime
import Foundation
import Hummingbird

/// `GET` and `PUT /api/v1/stores/{storeId}/slot-windows`: the bookable windows of a store's
/// day (the service's default until set). Read by the store's staff, set by its manager, its
/// dealer's admin or HQ; bookings already made keep their times.
struct SlotWindowController: Sendable {
    let windows: StoreWindows

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("stores").add(middleware: RoleGate(.guide, .storeManager, .dealerAdmin, .hqAdmin))
            .get("{storeId}/slot-windows", use: showWindows)
        api.group("stores").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin))
            .put("{storeId}/slot-windows", use: setWindows)
    }

    @Sendable func showWindows(_ request: Request, context: AftercareRequestContext) async throws -> StoreWindows.View {
        try await windows.show(try storeID(context), by: try context.requirePrincipal())
    }

    @Sendable func setWindows(_ request: Request, context: AftercareRequestContext) async throws -> StoreWindows.View {
        let body = try await request.decodeJSON(as: StoreWindows.Request.self, context: context)
        return try await windows.set(try storeID(context), body, by: try context.requirePrincipal())
    }

    private func storeID(_ context: AftercareRequestContext) throws -> String {
        guard let id = context.parameters.get("storeId"), validateCode(id, field: "storeId").isEmpty else {
            throw ProblemDetails.notFound("No such store.")
        }
        return id
    }
}
