import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import PostgresNIO

/// Reading, moving and cancelling bookings, and the coupon service's answers.
extension BookingDesk {
    func show(_ id: UUID, by caller: Principal) async throws -> BookingView {
        try await database.transaction(logger: logger) { connection in
            guard let booking = try await bookings.view(where: "b.id = $1", id, on: connection).first,
                (try? await bookings.placement(booking.memberId, for: caller, on: connection)) != nil
            else { throw ProblemDetails.notFound("No such booking.") }
            return booking
        }
    }

    /// A member's bookings, soonest first (a member sees their own).
    func list(memberId named: String?, by caller: Principal) async throws -> [BookingView] {
        let memberId = try Bookings.memberId(named, caller: caller)
        return try await database.transaction(logger: logger) { connection in
            _ = try await bookings.placement(memberId, for: caller, on: connection)
            return try await bookings.view(where: "b.member_id = $1", memberId, on: connection)
        }
    }

    /// Moves a booking to another free slot before the visit: its crew is released and the
    /// order is offered again for the new time.
    func reschedule(_ id: UUID, _ request: RescheduleRequest, by caller: Principal) async throws -> BookingView {
        try await database.transaction(logger: logger) { connection in
            // The dealer's days are locked before the booking's and the order's rows, the order
            // in which staffing takes them; both days in one order, so that two moves the other
            // way round cannot deadlock either.
            guard let seen = try await bookings.view(where: "b.id = $1", id, on: connection).first,
                (try? await bookings.placement(seen.memberId, for: caller, on: connection)) != nil
            else { throw ProblemDetails.notFound("No such booking.") }
            let (store, day, window) = try await bookings.slot(request.date, request.window, storeId: seen.storeId, on: connection)
            let oldDay = StoreDay(containing: seen.startsAt, in: store.timeZone)
            for lockDay in Set([oldDay.day, day.day]).sorted() {
                try await SlotBoard.lock(dealerId: store.dealerId, day: lockDay, on: connection, logger: logger)
            }
            let booking = try await bookings.changeable(id, by: caller, on: connection)
            // Moved by someone else between the read and the locks: its day now is locked too.
            let movedDay = StoreDay(containing: booking.startsAt, in: store.timeZone)
            if movedDay.day != oldDay.day {
                try await SlotBoard.lock(dealerId: store.dealerId, day: movedDay.day, on: connection, logger: logger)
            }
            let type = try await Catalog.type(booking.serviceType, on: connection, logger: logger)
            let board = try await SlotBoard.load(dealerId: store.dealerId, from: day, to: day, on: connection, logger: logger)
            let crewSize = type?.crewSize ?? 1
            guard
                board.room(
                    for: day.window(window, serviceType: booking.serviceType, store: store.storeId),
                    day: day,
                    crewSize: crewSize,
                    exceptBooking: id
                ) > 0
            else { throw ProblemDetails.conflict("The slot \(day.day) \(window) is full; choose another free slot.") }
            let now = clock.now()
            let (starts, ends) = (day.instant(atMinute: window.fromMinute), day.instant(atMinute: window.toMinute))
            try await connection.query(
                """
                UPDATE bookings SET day = \(day.day)::date, window_from = \(window.fromMinute), window_to = \(window.toMinute), starts_at = \(starts),
                    ends_at = \(ends), updated_at = \(now) WHERE id = \(id)
                """,
                logger: logger
            )
            if let orderId = booking.orderId, let order = try await bookings.orders.load(orderId, lock: true, on: connection) {
                try await bookings.releaseCrew(order, reason: "rescheduled", actor: caller.subject, at: now, on: connection)
                try await connection.query(
                    """
                    UPDATE orders SET starts_at = \(starts), ends_at = \(ends), round = round + 1, status = 'pending_dispatch', no_candidate_alerted = false,
                        deadline_alerted = false, updated_at = \(now) WHERE id = \(orderId)
                    """,
                    logger: logger
                )
                if let moved = try await bookings.orders.load(orderId, lock: true, on: connection) {
                    try await bookings.orders.timeline(
                        orderId,
                        BookingRescheduledKind.eventType,
                        actor: caller.subject,
                        detail: "\(day.day) \(window)",
                        at: now,
                        on: connection
                    )
                    try await bookings.dispatcher.scheduleCrewCheck(moved, on: connection)
                    try await bookings.dispatcher.fillSeats(orderId, actor: "dispatch", on: connection)
                }
            }
            try await bookings.record(
                BookingRescheduledKind.self,
                id,
                actor: caller.subject,
                reason: "from \(booking.date) \(booking.window)",
                on: connection
            )
            guard let moved = try await bookings.view(where: "b.id = $1", id, on: connection).first else {
                throw ProblemDetails.notFound("No such booking.")
            }
            return moved
        }
    }

    /// Cancels a booking before the visit has started; a reserved coupon is released (the
    /// coupon service consumes `dispatch.booking.cancelled`).
    func cancel(_ id: UUID, reason: String, by caller: Principal) async throws -> BookingView {
        try await database.transaction(logger: logger) { connection in
            let booking = try await bookings.changeable(id, by: caller, on: connection, allowingEnRoute: true)
            try await bookings.end(booking, status: "cancelled", reason: reason, actor: caller.subject, on: connection)
            guard let cancelled = try await bookings.view(where: "b.id = $1", id, on: connection).first else {
                throw ProblemDetails.notFound("No such booking.")
            }
            return cancelled
        }
    }
}

/// Ending bookings, and the coupon service's answers.
extension Bookings {
    /// Ends a booking (cancelled or expired) with its order, and says so.
    func end(_ booking: BookingView, status: String, reason: String, actor: String, on connection: PostgresConnection) async throws {
        let now = clock.now()
        try await connection.query(
            "UPDATE bookings SET status = \(status), reason = \(reason), updated_at = \(now) WHERE id = \(booking.id)",
            logger: logger
        )
        if let orderId = booking.orderId, let order = try await orders.load(orderId, lock: true, on: connection) {
            try await releaseCrew(order, reason: "cancelled", actor: actor, at: now, on: connection)
            try await orders.setStatus(order, .cancelled, reason: reason, at: now, on: connection)
            try await orders.record(OrderCancelledKind.self, order, crew: [], actor: actor, reason: reason, at: now, on: connection)
        }
        try await record(BookingCancelledKind.self, booking.id, actor: actor, reason: reason, on: connection)
    }

    /// The booking (locked) if the caller may change it and its visit has not started.
    func changeable(_ id: UUID, by caller: Principal, on connection: PostgresConnection, allowingEnRoute: Bool = false) async throws -> BookingView {
        let rows = try await connection.query("SELECT 1 FROM bookings WHERE id = \(id) FOR UPDATE", logger: logger)
        guard try await rows.collect().count == 1, let booking = try await view(where: "b.id = $1", id, on: connection).first,
            (try? await placement(booking.memberId, for: caller, on: connection)) != nil
        else { throw ProblemDetails.notFound("No such booking.") }
        guard ["awaiting_coupon", "confirmed"].contains(booking.status) else { throw ProblemDetails.conflict("The booking is \(booking.status).") }
        if let orderId = booking.orderId, let order = try await orders.load(orderId, lock: true, on: connection) {
            let allowed: Set<OrderStatus> =
                allowingEnRoute ? [.pendingDispatch, .offered, .dispatched, .enRoute] : [.pendingDispatch, .offered, .dispatched]
            guard allowed.contains(order.status) else {
                throw ProblemDetails.conflict("The visit is \(order.status.rawValue); it can no longer change.")
            }
        }
        return booking
    }

    /// Every seat of the order is given back (the technicians are told by `dispatch.seat.released`).
    func releaseCrew(_ order: ServiceOrder, reason: String, actor: String, at now: Date, on connection: PostgresConnection) async throws {
        for seat in order.seats {
            try await dispatcher.release(
                order,
                seat: seat,
                as: SeatReleasedKind.self,
                outcome: "released",
                reason: reason,
                actor: actor,
                at: now,
                on: connection
            )
        }
    }

    /// The coupon service reserved the booking's coupon: the booking is confirmed (once; a
    /// booking that meanwhile was cancelled or expired stays so, and its release went out).
    func couponReserved(_ event: CouponReserved, on connection: PostgresConnection) async throws {
        // Confirming staffs the order: the dealer's day is locked before the booking's row.
        try await SlotBoard.lockDay(ofBooking: event.bookingId, on: connection, logger: logger)
        guard let booking = try await awaitingCoupon(event.bookingId, code: event.couponCode, on: connection),
            let type = try await Catalog.type(booking.serviceType, on: connection, logger: logger)
        else { return }
        try await JobScheduler.cancel(uniqueKey: "coupon-wait-\(booking.id)", on: connection, logger: logger)
        try await confirm(booking.id, type: type, actor: "coupon", on: connection)
    }

    /// The coupon service refused the coupon: so is the booking, with its reason.
    func couponRefused(_ event: CouponReservationRefused, on connection: PostgresConnection) async throws {
        guard let booking = try await awaitingCoupon(event.bookingId, code: event.couponCode, on: connection) else { return }
        try await JobScheduler.cancel(uniqueKey: "coupon-wait-\(booking.id)", on: connection, logger: logger)
        try await connection.query(
            "UPDATE bookings SET status = 'refused', reason = \(event.reason), updated_at = \(clock.now()) WHERE id = \(booking.id)",
            logger: logger
        )
        try await record(BookingRefusedKind.self, booking.id, actor: "coupon", reason: event.reason, on: connection)
    }

    /// No answer from the coupon service in time: the booking expires and its coupon, if it
    /// was reserved after all, is released.
    func expireCouponWait(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        guard let id = UUID(uuidString: job.payload), let booking = try await awaitingCoupon(id, code: nil, on: connection) else { return }
        try await end(booking, status: "expired", reason: "the coupon was not confirmed in time", actor: "dispatch", on: connection)
    }

    func awaitingCoupon(_ id: UUID, code: String?, on connection: PostgresConnection) async throws -> BookingView? {
        let rows = try await connection.query("SELECT status, coupon_code FROM bookings WHERE id = \(id) FOR UPDATE", logger: logger)
        guard let (status, coupon) = try await rows.collect().first?.decode((String, String?).self), status == "awaiting_coupon" else { return nil }
        if let code, coupon != code { return nil }
        return try await view(where: "b.id = $1", id, on: connection).first
    }
}
