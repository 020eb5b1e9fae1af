import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// Staffs service orders seat by seat: each open seat is offered to the best candidate by the
/// rules (`CrewChoice`), one technician at a time; an offer is accepted, declined, or lapses on
/// a durable timer and the seat alone goes to the next candidate. The order is dispatched
/// when every seat accepted. When nobody is left, or the crew is still incomplete shortly
/// before the slot, the store manager is alerted once. Every step runs with the order locked,
/// so a timer and a technician's answer (or two replicas' timers) never both act.
struct CrewDispatcher: Sendable {
    static let lapseJob = "dispatch.offer.lapse"
    static let crewCheckJob = "dispatch.crew.check"

    let orders: Orders
    let settings: DispatchSettings
    let clock: any BusinessClock
    let logger: Logger

    struct LapsePayload: Codable, Sendable {
        let orderId: UUID
        let seat: Int
        let offerId: UUID
    }

    /// Offers every open seat of a staffing order, then sets its status from its seats.
    func fillSeats(_ orderId: UUID, actor: String, on connection: PostgresConnection) async throws {
        guard let order = try await orders.load(orderId, lock: true, on: connection) else { return }
        try await fillSeats(order, actor: actor, on: connection)
    }

    /// The same for an order already locked and read in this transaction. Staffing holds the
    /// lock of the order's dealer and day (as booking does): two orders of one day staffed at
    /// once would each see the other's new offer as not yet made, and offer one technician
    /// both visits.
    func fillSeats(_ order: ServiceOrder, actor: String, on connection: PostgresConnection) async throws {
        guard order.status.isStaffing else { return }
        let now = clock.now()
        let day = StoreDay(containing: order.startsAt, in: order.timeZone)
        try await SlotBoard.lock(dealerId: order.dealerId, day: day.day, on: connection, logger: logger)
        let board = try await SlotBoard.load(dealerId: order.dealerId, from: day, to: day, withOpenSeats: false, on: connection, logger: logger)
        let fromMinute = Int(order.startsAt.timeIntervalSince(day.midnight) / 60)
        let window = VisitWindow(
            day: day.day,
            weekday: day.weekday,
            fromMinute: fromMinute,
            toMinute: fromMinute + Int(order.endsAt.timeIntervalSince(order.startsAt) / 60),
            store: order.storeId,
            serviceType: order.serviceType.key
        )
        var excluded = order.asked.union(order.seats.map(\.technicianId))
        excluded.formUnion(board.busy(from: order.startsAt, to: order.endsAt, exceptOrder: order.id))
        let taken = Set(order.seats.map(\.seat))
        var staffed = order
        var unfilled: [Int] = []
        for seat in 1...max(1, order.serviceType.crewSize) where !taken.contains(seat) {
            let candidates = CrewChoice.candidates(for: window, among: board.technicians, workload: board.workload(on: day), excluding: excluded)
            guard let candidate = candidates.first else {
                unfilled.append(seat)
                continue
            }
            excluded.insert(candidate.technicianId)
            staffed.seats.append(try await offer(order, seat: seat, to: candidate, at: now, on: connection))
        }
        try await settle(staffed, actor: actor, on: connection)
        if !unfilled.isEmpty, !order.noCandidateAlerted {
            try await connection.query("UPDATE orders SET no_candidate_alerted = true WHERE id = \(order.id)", logger: logger)
            let seats = unfilled.map(String.init).joined(separator: ", ")
            try await orders.record(
                CrewIncompleteKind.self,
                order,
                actor: "dispatch",
                reason: "no candidate left for seat \(seats)",
                at: now,
                on: connection
            )
        }
    }

    /// Offers one seat: the seat, the offer and its timeline entry in one statement, the lapse
    /// timer, the event.
    private func offer(
        _ order: ServiceOrder,
        seat: Int,
        to candidate: CrewChoice.Candidate,
        at now: Date,
        on connection: PostgresConnection
    ) async throws -> Seat {
        let offerId = UUID()
        let expiresAt = now.addingTimeInterval(settings.offerTimeout)
        try await connection.query(
            """
            WITH held AS (
                INSERT INTO order_seats (order_id, seat, technician_id, status, offer_id, offered_at, expires_at, why)
                VALUES (\(order.id), \(seat), \(candidate.technicianId), 'offered', \(offerId), \(now), \(expiresAt), \(candidate.reason))
            ), noted AS (
                INSERT INTO order_timeline (order_id, at, kind, actor, detail)
                VALUES (\(order.id), \(now), \(OfferMadeKind.eventType), 'dispatch', \(Orders.seatDetail(seat, candidate.technicianId, candidate.reason)))
            )
            INSERT INTO offers_made (order_id, seat, technician_id, round, outcome, at)
            VALUES (\(order.id), \(seat), \(candidate.technicianId), \(order.round), 'offered', \(now))
            """,
            logger: logger
        )
        let payload = String(decoding: try JSONEncoder().encode(LapsePayload(orderId: order.id, seat: seat, offerId: offerId)), as: UTF8.self)
        try await JobScheduler.schedule(
            kind: Self.lapseJob,
            dueAt: expiresAt,
            payload: payload,
            uniqueKey: "offer-lapse-\(offerId)",
            on: connection,
            logger: logger
        )
        try await orders.record(
            OfferMadeKind.self,
            order,
            seat: seat,
            technicianId: candidate.technicianId,
            expiresAt: expiresAt,
            actor: "dispatch",
            reason: candidate.reason,
            at: now,
            timeline: false,
            on: connection
        )
        return Seat(seat: seat, technicianId: candidate.technicianId, status: .offered, offerId: offerId, expiresAt: expiresAt, why: candidate.reason)
    }

    /// The status the seats call for: dispatched when every seat accepted, offered while any
    /// seat is held, pending otherwise. `order` is as this transaction left it.
    func settle(_ order: ServiceOrder, actor: String, on connection: PostgresConnection) async throws {
        guard order.status.isStaffing else { return }
        let now = clock.now()
        let status: OrderStatus = order.fullyStaffed ? .dispatched : (order.seats.isEmpty ? .pendingDispatch : .offered)
        guard status != order.status else { return }
        try await orders.setStatus(order, status, at: now, on: connection)
        if status == .dispatched {
            try await orders.record(OrderDispatchedKind.self, order, actor: actor, reason: nil, at: now, on: connection)
        } else {
            try await orders.timeline(order.id, "status", actor: actor, detail: status.rawValue, at: now, on: connection)
        }
    }

    /// The timer of one offer: if it is still open, it lapses and the seat goes to the next
    /// candidate. An offer already answered (or replaced) is left alone.
    func lapse(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        let payload = try JSONDecoder().decode(LapsePayload.self, from: Data(job.payload.utf8))
        try await SlotBoard.lockDay(ofOrder: payload.orderId, on: connection, logger: logger)
        guard let order = try await orders.load(payload.orderId, lock: true, on: connection), order.status.isStaffing,
            let seat = order.seats.first(where: { $0.offerId == payload.offerId && $0.status == .offered })
        else { return }
        let now = clock.now()
        let released = try await release(
            order,
            seat: seat,
            as: OfferExpiredKind.self,
            outcome: "expired",
            reason: "not answered in time",
            actor: "dispatch",
            at: now,
            on: connection
        )
        try await fillSeats(released, actor: "dispatch", on: connection)
    }

    /// Frees a seat, records how its offer ended and the timeline entry in one statement, and
    /// publishes the seat's event of kind `Kind` (`offerReason` is what the offer's record
    /// keeps, when it differs from the event's reason); answers the order without that seat.
    @discardableResult
    func release<Kind: DispatchChangeKind>(
        _ order: ServiceOrder,
        seat: Seat,
        as kind: Kind.Type,
        outcome: String,
        reason: String?,
        offerReason: String? = nil,
        actor: String,
        at now: Date,
        on connection: PostgresConnection
    ) async throws -> ServiceOrder {
        let detail = Orders.seatDetail(seat.seat, seat.technicianId, reason)
        try await connection.query(
            """
            WITH freed AS (DELETE FROM order_seats WHERE order_id = \(order.id) AND seat = \(seat.seat)),
            noted AS (
                INSERT INTO order_timeline (order_id, at, kind, actor, detail) VALUES (\(order.id), \(now), \(Kind.eventType), \(actor), \(detail))
            )
            UPDATE offers_made SET outcome = \(outcome), reason = \(offerReason ?? reason), at = \(now)
            WHERE order_id = \(order.id) AND technician_id = \(seat.technicianId) AND round = \(order.round) AND outcome IN ('offered', 'accepted')
            """,
            logger: logger
        )
        try await orders.record(
            kind,
            order,
            seat: seat.seat,
            technicianId: seat.technicianId,
            actor: actor,
            reason: reason,
            at: now,
            timeline: false,
            on: connection
        )
        var released = order
        released.seats.removeAll { $0.seat == seat.seat }
        return released
    }

    /// The check a while before the slot: a crew still incomplete alerts the store manager,
    /// once per order and slot.
    func checkCrew(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        let parts = job.payload.split(separator: "/")
        guard parts.count == 2, let id = UUID(uuidString: String(parts[0])), let round = Int(parts[1]) else { return }
        guard let order = try await orders.load(id, lock: true, on: connection), order.round == round, order.status.isStaffing, !order.fullyStaffed,
            !order.deadlineAlerted
        else { return }
        try await connection.query("UPDATE orders SET deadline_alerted = true WHERE id = \(id)", logger: logger)
        let open = order.serviceType.crewSize - order.crew.count
        try await orders.record(
            CrewIncompleteKind.self,
            order,
            actor: "dispatch",
            reason: "\(open) seat\(open == 1 ? "" : "s") still open shortly before the slot",
            at: clock.now(),
            on: connection
        )
    }

    /// A visit booked at shorter notice than the lead is checked once its first offers had
    /// time to be answered.
    func scheduleCrewCheck(_ order: ServiceOrder, on connection: PostgresConnection) async throws {
        let now = clock.now()
        let lead = order.startsAt.addingTimeInterval(-settings.crewAlertLead)
        let due = lead > now ? lead : now.addingTimeInterval(settings.offerTimeout)
        try await JobScheduler.schedule(
            kind: Self.crewCheckJob,
            dueAt: due,
            payload: "\(order.id)/\(order.round)",
            uniqueKey: "crew-check-\(order.id)-\(order.round)",
            on: connection,
            logger: logger
        )
    }
}
