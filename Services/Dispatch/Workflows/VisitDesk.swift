import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// The visit as the crew works it: on the way, started, the checklist step by step in order,
/// and how it ended (completed, nobody home, could not complete). Only a technician holding
/// an accepted seat moves it on; completion asks feedback for a review of each technician.
struct VisitDesk: Sendable {
    let database: PostgresClient
    let orders: Orders
    let clock: any BusinessClock
    let logger: Logger

    func enRoute(_ id: UUID, by caller: Principal) async throws {
        try await move(id, from: [.dispatched], to: .enRoute, by: caller) { order, connection in
            try await orders.record(OrderEnRouteKind.self, order, actor: caller.subject, reason: nil, at: clock.now(), on: connection)
        }
    }

    func start(_ id: UUID, by caller: Principal) async throws {
        try await move(id, from: [.dispatched, .enRoute], to: .inProgress, by: caller) { order, connection in
            try await orders.record(OrderStartedKind.self, order, actor: caller.subject, reason: nil, at: clock.now(), on: connection)
        }
    }

    /// Marks step `step` (1-based) done, in order, with the note or photo reference it needs.
    func markStep(_ id: UUID, step: Int, note: String?, photo: String?, by caller: Principal) async throws {
        try await database.transaction(logger: logger) { connection in
            let order = try await crewOrder(id, by: caller, on: connection)
            guard order.status == .inProgress else {
                throw ProblemDetails.conflict("Start the visit before working its checklist (it is \(order.status.rawValue)).")
            }
            let done = Set(try await stepsDone(id, on: connection).map { $0 - 1 })
            if let problem = Checklist.problem(marking: step - 1, done: done, steps: order.serviceType.steps, note: note, photo: photo) {
                let field = problem == .noteRequired ? "note" : (problem == .photoRequired ? "photo" : "step")
                throw ProblemDetails.validation(field: field, "step \(step) \(problem)")
            }
            let now = clock.now()
            try await connection.query(
                "INSERT INTO order_steps (order_id, step, done_by, done_at, note, photo) VALUES (\(id), \(step), \(caller.subject), \(now), \(note), \(photo))",
                logger: logger
            )
            let title = order.serviceType.steps[step - 1].title
            try await orders.outbox.record(
                ServiceStepDone(orderId: id, step: step, title: title, technicianId: caller.subject, doneAt: now),
                aggregateID: "order-\(id)",
                on: connection
            )
            try await orders.timeline(id, ServiceStepDone.eventType, actor: caller.subject, detail: "\(step). \(title)", at: now, on: connection)
        }
    }

    /// Completes the visit once every required step is done.
    func complete(_ id: UUID, by caller: Principal) async throws {
        try await database.transaction(logger: logger) { connection in
            let order = try await crewOrder(id, by: caller, on: connection)
            guard order.status == .inProgress else { throw ProblemDetails.conflict("The visit is \(order.status.rawValue), not in progress.") }
            let missing = Checklist.missing(done: Set(try await stepsDone(id, on: connection).map { $0 - 1 }), steps: order.serviceType.steps)
            if !missing.isEmpty {
                throw ProblemDetails.validation(
                    field: "checklist",
                    "required steps not done: \(missing.map { String($0 + 1) }.joined(separator: ", "))"
                )
            }
            let now = clock.now()
            try await orders.setStatus(order, .completed, at: now, on: connection)
            let completed = ServiceOrderCompleted(
                orderId: "\(order.id)",
                memberId: order.memberId,
                storeId: order.storeId,
                dealerId: order.dealerId,
                serviceType: order.serviceType.key,
                technicianIds: order.crew,
                completedAt: now,
                bookingId: order.bookingId,
                couponCode: order.couponCode
            )
            try await orders.outbox.record(completed, aggregateID: "order-\(order.id)", on: connection)
            try await orders.timeline(id, ServiceOrderCompleted.eventType, actor: caller.subject, detail: nil, at: now, on: connection)
        }
    }

    /// Nobody was home: the member is contacted to rebook; the coupon is released.
    func noAccess(_ id: UUID, note: String, by caller: Principal) async throws {
        try await move(id, from: [.enRoute, .inProgress], to: .noAccess, reason: note, by: caller) { order, connection in
            try await orders.record(OrderNoAccessKind.self, order, actor: caller.subject, reason: note, at: clock.now(), on: connection)
        }
    }

    /// The crew could not finish, with the reason; the coupon is released, and staff book a
    /// follow-up visit.
    func cannotComplete(_ id: UUID, reason: String, by caller: Principal) async throws {
        try await move(id, from: [.inProgress], to: .cannotComplete, reason: reason, by: caller) { order, connection in
            try await orders.record(OrderCannotCompleteKind.self, order, actor: caller.subject, reason: reason, at: clock.now(), on: connection)
        }
    }

    private func move(
        _ id: UUID,
        from: Set<OrderStatus>,
        to status: OrderStatus,
        reason: String? = nil,
        by caller: Principal,
        then event: @escaping @Sendable (ServiceOrder, PostgresConnection) async throws -> Void
    ) async throws {
        try await database.transaction(logger: logger) { connection in
            let order = try await crewOrder(id, by: caller, on: connection)
            guard from.contains(order.status) else {
                throw ProblemDetails.conflict("The visit is \(order.status.rawValue); it cannot become \(status.rawValue) from there.")
            }
            try await orders.setStatus(order, status, reason: reason, at: clock.now(), on: connection)
            try await event(order, connection)
        }
    }

    /// The order (locked) if the caller holds an accepted seat on it.
    private func crewOrder(_ id: UUID, by caller: Principal, on connection: PostgresConnection) async throws -> ServiceOrder {
        guard let order = try await orders.load(id, lock: true, on: connection), let seat = order.seat(of: caller.subject) else {
            throw ProblemDetails.notFound("No such order.")
        }
        guard seat.status == .accepted else { throw ProblemDetails.conflict("Accept the offer before working the visit.") }
        return order
    }

    private func stepsDone(_ id: UUID, on connection: PostgresConnection) async throws -> [Int] {
        let rows = try await connection.query("SELECT step FROM order_steps WHERE order_id = \(id)", logger: logger)
        return try await rows.collect().map { try $0.decode(Int.self) }
    }
}
