import AftercareRuntime
import Foundation
import Hummingbird

/// Service orders: `GET /api/v1/orders` and `GET /api/v1/orders/{id}` within the caller's
/// scope (a technician sees the orders offered or dispatched to them); a technician's
/// `accept` / `decline` of their offer; `PUT /api/v1/orders/{id}/seats/{seat}` for store
/// managers, dealer admins and HQ to assign or swap by hand; and the visit itself:
/// `en-route`, `start`, `PUT steps/{step}`, `complete`, `no-access`, `cannot-complete`.
struct OrderController: Sendable {
    let board: OrderBoard
    let dispatcher: CrewDispatcher
    let visits: VisitDesk

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("orders").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .technician, .hqAdmin))
            .get(use: listOrders)
            .get("{id}", use: showOrder)
        api.group("orders").add(middleware: RoleGate(.technician))
            .post("{id}/accept", use: accept)
            .post("{id}/decline", use: decline)
            .post("{id}/en-route", use: enRoute)
            .post("{id}/start", use: start)
            .put("{id}/steps/{step}", use: markStep)
            .post("{id}/complete", use: complete)
            .post("{id}/no-access", use: noAccess)
            .post("{id}/cannot-complete", use: cannotComplete)
        api.group("orders").add(middleware: RoleGate(.storeManager, .dealerAdmin, .hqAdmin))
            .put("{id}/seats/{seat}", use: assign)
    }

    struct Assignment: ValidatedRequest, Sendable {
        let technicianId: String
        let reason: String

        func validate() -> [FieldProblem] {
            validateCode(technicianId, field: "technicianId") + ReasonRequest(reason: reason).validate()
        }
    }

    struct StepMark: ValidatedRequest, Sendable {
        let note: String?
        let photo: String?

        static var multilineKeys: Set<String> { ["note"] }

        func validate() -> [FieldProblem] {
            var problems: [FieldProblem] = []
            if let note, note.count > 2000 { problems.append(.init(field: "note", message: "must be at most 2000 characters")) }
            if let photo, photo.count > 500 { problems.append(.init(field: "photo", message: "must be at most 500 characters")) }
            return problems
        }
    }

    @Sendable func listOrders(_ request: Request, context: AftercareRequestContext) async throws -> OrderListing {
        let status = try request.uri.queryParameters.get("status").map { text in
            guard let status = OrderStatus(rawValue: String(text)) else { throw ProblemDetails.validation(field: "status", "is not an order status") }
            return status
        }
        return try await board.list(by: try context.requirePrincipal(), status: status)
    }

    @Sendable func showOrder(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        try await board.show(try orderID(context), by: try context.requirePrincipal())
    }

    @Sendable func accept(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        try await board.database.transaction(logger: board.logger) { try await dispatcher.accept(id, by: caller, on: $0) }
        return try await board.show(id, by: caller)
    }

    @Sendable func decline(_ request: Request, context: AftercareRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: ReasonRequest.self, context: context)
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        try await board.database.transaction(logger: board.logger) { try await dispatcher.decline(id, reason: body.reason, by: caller, on: $0) }
        return Response(status: .noContent)
    }

    @Sendable func assign(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let body = try await request.decodeJSON(as: Assignment.self, context: context)
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        guard let seat = context.parameters.get("seat").flatMap({ Int($0) }), (1...2).contains(seat) else {
            throw ProblemDetails.validation(field: "seat", "must be 1 or 2")
        }
        try await board.database.transaction(logger: board.logger) {
            try await dispatcher.assign(id, seat: seat, technicianId: body.technicianId, reason: body.reason, by: caller, on: $0)
        }
        return try await board.show(id, by: caller)
    }

    @Sendable func enRoute(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        try await visits.enRoute(id, by: caller)
        return try await board.show(id, by: caller)
    }

    @Sendable func start(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        try await visits.start(id, by: caller)
        return try await board.show(id, by: caller)
    }

    @Sendable func markStep(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let body = try await request.decodeJSON(as: StepMark.self, context: context)
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        guard let step = context.parameters.get("step").flatMap({ Int($0) }), (1...50).contains(step) else {
            throw ProblemDetails.validation(field: "step", "must be a step number of the checklist")
        }
        try await visits.markStep(id, step: step, note: body.note, photo: body.photo, by: caller)
        return try await board.show(id, by: caller)
    }

    @Sendable func complete(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        try await visits.complete(id, by: caller)
        return try await board.show(id, by: caller)
    }

    @Sendable func noAccess(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let body = try await request.decodeJSON(as: ReasonRequest.self, context: context)
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        try await visits.noAccess(id, note: body.reason, by: caller)
        return try await board.show(id, by: caller)
    }

    @Sendable func cannotComplete(_ request: Request, context: AftercareRequestContext) async throws -> OrderView {
        let body = try await request.decodeJSON(as: ReasonRequest.self, context: context)
        let (id, caller) = (try orderID(context), try context.requirePrincipal())
        try await visits.cannotComplete(id, reason: body.reason, by: caller)
        return try await board.show(id, by: caller)
    }

    private func orderID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such order.") }
        return id
    }
}
