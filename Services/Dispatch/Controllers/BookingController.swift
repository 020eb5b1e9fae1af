import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/slots` (free slots of a store for a service type over the next days),
/// `POST /api/v1/bookings` (a member for themselves; their guide, store staff, dealer admin
/// or HQ for them; `Idempotency-Key` honoured), `GET /api/v1/bookings` and
/// `GET /api/v1/bookings/{id}`, and `reschedule` / `cancel` before the visit.
struct BookingController: Sendable {
    let desk: BookingDesk

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let roles = RoleGate(.member, .guide, .storeManager, .dealerAdmin, .hqAdmin)
        api.group("slots").add(middleware: roles)
            .get(use: freeSlots)
        api.group("bookings").add(middleware: roles)
            .post(use: book)
            .get(use: listBookings)
            .get("{id}", use: showBooking)
            .post("{id}/reschedule", use: reschedule)
            .post("{id}/cancel", use: cancel)
    }

    @Sendable func freeSlots(_ request: Request, context: AftercareRequestContext) async throws -> FreeSlots {
        let caller = try context.requirePrincipal()
        let query = request.uri.queryParameters
        var problems: [FieldProblem] = []
        let type = query.get("serviceType").map { String($0) } ?? ""
        problems += validateCode(type, field: "serviceType")
        // Staff see their own store unless they name one; a member's store is looked up.
        let storeId = query.get("storeId").map { String($0) } ?? (caller.role == .member ? nil : caller.storeID)
        if caller.role != .member || storeId != nil { problems += validateCode(storeId ?? "", field: "storeId") }
        let days = try request.integerQuery("days", in: 1...31) ?? 7
        if !problems.isEmpty { throw ProblemDetails.validation(problems) }
        return try await desk.freeSlots(storeId: storeId, serviceType: type, days: days, by: caller)
    }

    @Sendable func book(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<BookingView> {
        let body = try await request.decodeJSON(as: BookingRequest.self, context: context)
        let key = try request.idempotencyKey()
        return EditedResponse(status: .created, response: try await desk.book(body, by: try context.requirePrincipal(), idempotencyKey: key))
    }

    @Sendable func listBookings(_ request: Request, context: AftercareRequestContext) async throws -> BookingDesk.Listing {
        let memberId = request.uri.queryParameters.get("memberId").map { String($0) }
        if let memberId, memberId.isEmpty || memberId.count > 64 { throw ProblemDetails.validation(field: "memberId", "must be a member id") }
        return .init(bookings: try await desk.list(memberId: memberId, by: try context.requirePrincipal()))
    }

    @Sendable func showBooking(_ request: Request, context: AftercareRequestContext) async throws -> BookingView {
        try await desk.show(try bookingID(context), by: try context.requirePrincipal())
    }

    @Sendable func reschedule(_ request: Request, context: AftercareRequestContext) async throws -> BookingView {
        let body = try await request.decodeJSON(as: RescheduleRequest.self, context: context)
        return try await desk.reschedule(try bookingID(context), body, by: try context.requirePrincipal())
    }

    @Sendable func cancel(_ request: Request, context: AftercareRequestContext) async throws -> BookingView {
        let body = try await request.decodeJSON(as: ReasonRequest.self, context: context)
        return try await desk.cancel(try bookingID(context), reason: body.reason, by: try context.requirePrincipal())
    }

    private func bookingID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such booking.") }
        return id
    }
}
