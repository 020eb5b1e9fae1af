import AftercareContracts
import AftercareRuntime
import Foundation
import PostgresNIO

/// The technicians' answers to their offers, the managers' hands on the seats, and a
/// technician leaving: each with the order locked.
extension CrewDispatcher {
    /// The caller's open offer on the order becomes their accepted seat.
    func accept(_ orderId: UUID, by caller: Principal, on connection: PostgresConnection) async throws {
        let (order, seat) = try await openOffer(orderId, of: caller, on: connection)
        let now = clock.now()
        try await connection.query(
            "UPDATE order_seats SET status = 'accepted', expires_at = NULL WHERE order_id = \(order.id) AND seat = \(seat.seat)",
            logger: logger
        )
        try await orders.offerOutcome(order.id, technicianId: caller.subject, round: order.round, "accepted", reason: nil, at: now, on: connection)
        try await orders.record(
            OfferAcceptedKind.self,
            order,
            seat: seat.seat,
            technicianId: caller.subject,
            actor: caller.subject,
            reason: nil,
            at: now,
            on: connection
        )
        var accepted = order
        accepted.seats = order.seats.map {
            $0.seat == seat.seat
                ? Seat(seat: $0.seat, technicianId: $0.technicianId, status: .accepted, offerId: $0.offerId, expiresAt: nil, why: $0.why) : $0
        }
        try await settle(accepted, actor: caller.subject, on: connection)
    }

    /// The caller turns their offer down; that seat alone goes to the next candidate.
    func decline(_ orderId: UUID, reason: String, by caller: Principal, on connection: PostgresConnection) async throws {
        let (order, seat) = try await openOffer(orderId, of: caller, on: connection)
        let now = clock.now()
        let released = try await release(
            order,
            seat: seat,
            as: OfferDeclinedKind.self,
            outcome: "declined",
            reason: reason,
            actor: caller.subject,
            at: now,
            on: connection
        )
        try await fillSeats(released, actor: caller.subject, on: connection)
    }

    /// The order (locked) and the caller's seat on it, which must be an open offer.
    private func openOffer(_ orderId: UUID, of caller: Principal, on connection: PostgresConnection) async throws -> (ServiceOrder, Seat) {
        try await SlotBoard.lockDay(ofOrder: orderId, on: connection, logger: logger)
        guard let order = try await orders.load(orderId, lock: true, on: connection) else { throw ProblemDetails.notFound("No such order.") }
        guard let seat = order.seat(of: caller.subject) else {
            if order.asked.contains(caller.subject) { throw ProblemDetails.conflict("Your offer on this order is no longer open.") }
            throw ProblemDetails.notFound("No such order.")
        }
        if seat.status == .accepted { throw ProblemDetails.conflict("You already accepted seat \(seat.seat) of this order.") }
        guard order.status.isStaffing else { throw ProblemDetails.conflict("The order is \(order.status.rawValue).") }
        if let expiresAt = seat.expiresAt, expiresAt <= clock.now() { throw ProblemDetails.conflict("Your offer lapsed at \(expiresAt).") }
        return (order, seat)
    }

    /// A store manager, dealer admin or HQ puts a technician on a seat, over the rules; who
    /// held it is released. Anyone of the dealer who has not left may be named.
    func assign(
        _ orderId: UUID,
        seat number: Int,
        technicianId: String,
        reason: String,
        by caller: Principal,
        on connection: PostgresConnection
    )
        async throws
    {
        guard let order = try await orders.load(orderId, lock: true, on: connection),
            Access.assignsByHand(caller, storeId: order.storeId, dealerId: order.dealerId)
        else { throw ProblemDetails.notFound("No such order.") }
        guard order.status.isStaffing else { throw ProblemDetails.conflict("The order is \(order.status.rawValue); its crew can no longer change.") }
        guard (1...order.serviceType.crewSize).contains(number) else {
            throw ProblemDetails.validation(field: "seat", "must be 1 to \(order.serviceType.crewSize) for this order")
        }
        let rows = try await connection.query(
            "SELECT 1 FROM technicians WHERE technician_id = \(technicianId) AND dealer_id = \(order.dealerId) AND active",
            logger: logger
        )
        guard try await rows.collect().count == 1 else {
            throw ProblemDetails.validation(field: "technicianId", "is not an active technician of the order's dealer")
        }
        if let other = order.seat(of: technicianId), other.seat != number {
            throw ProblemDetails.validation(field: "technicianId", "already holds seat \(other.seat) of this order")
        }
        let now = clock.now()
        if let current = order.seats.first(where: { $0.seat == number }) {
            if current.technicianId == technicianId, current.status == .accepted { return }
            try await release(
                order,
                seat: current,
                as: SeatReleasedKind.self,
                outcome: "released",
                reason: reason,
                offerReason: "swapped by \(caller.subject)",
                actor: caller.subject,
                at: now,
                on: connection
            )
        }
        let assigned = Seat(
            seat: number,
            technicianId: technicianId,
            status: .accepted,
            offerId: UUID(),
            expiresAt: nil,
            why: "assigned by \(caller.subject): \(reason)"
        )
        try await connection.query(
            """
            WITH held AS (
                INSERT INTO order_seats (order_id, seat, technician_id, status, offer_id, offered_at, expires_at, why)
                VALUES (\(order.id), \(number), \(technicianId), 'accepted', \(assigned.offerId), \(now), NULL, \(assigned.why))
            )
            INSERT INTO offers_made (order_id, seat, technician_id, round, outcome, reason, at)
            VALUES (\(order.id), \(number), \(technicianId), \(order.round), 'accepted', \(reason), \(now))
            """,
            logger: logger
        )
        try await orders.record(
            SeatAssignedKind.self,
            order,
            seat: number,
            technicianId: technicianId,
            actor: caller.subject,
            reason: reason,
            at: now,
            on: connection
        )
        var staffed = order
        staffed.seats.removeAll { $0.seat == number }
        staffed.seats.append(assigned)
        try await settle(staffed, actor: caller.subject, on: connection)
    }

    /// A technician who left is offered nothing more (the rules refuse them) and gives back
    /// the seats of visits not yet started; each goes to the next candidate.
    func technicianLeft(_ technicianId: String, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT o.id FROM order_seats s JOIN orders o ON o.id = s.order_id
            WHERE s.technician_id = \(technicianId) AND o.status IN ('pending_dispatch', 'offered', 'dispatched')
            ORDER BY o.starts_at LIMIT 500
            """,
            logger: logger
        )
        let ids = try await rows.collect().map { try $0.decode(UUID.self) }
        let now = clock.now()
        for id in ids {
            try await SlotBoard.lockDay(ofOrder: id, on: connection, logger: logger)
            guard let order = try await orders.load(id, lock: true, on: connection), let seat = order.seat(of: technicianId) else { continue }
            let released = try await release(
                order,
                seat: seat,
                as: SeatReleasedKind.self,
                outcome: "released",
                reason: "left",
                actor: "dispatch",
                at: now,
                on: connection
            )
            try await fillSeats(released, actor: "dispatch", on: connection)
        }
    }
}
