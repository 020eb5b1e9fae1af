import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Books visits into slots: by the member for themselves or by their guide or store staff.
/// A slot is booked with the dealer's day locked, so concurrent bookings never take more
/// room than there is. A booking with a coupon waits for the coupon service's reservation;
/// without one it is confirmed at once and becomes a service order offered to a crew.
struct BookingDesk: Sendable {
    let database: PostgresClient
    let catalog: Catalog
    let bookings: Bookings
    var settings: DispatchSettings { bookings.settings }
    var clock: any BusinessClock { bookings.clock }
    var logger: Logger { bookings.logger }

    struct Listing: ResponseCodable, Sendable {
        let bookings: [BookingView]
    }

    /// The slots with room over the next `days` local days of a store (a member's own store
    /// when they name none). Staff see the stores within their scope.
    func freeSlots(storeId named: String?, serviceType key: String, days: Int, by caller: Principal) async throws -> FreeSlots {
        let type = try await catalog.type(key, field: "serviceType")
        return try await database.transaction(logger: logger) { connection in
            var storeId = named ?? ""
            if named == nil {
                guard let member = try? await bookings.placement(caller.subject, for: caller, on: connection) else {
                    throw ProblemDetails.validation(field: "storeId", "is required: dispatch does not know your store yet")
                }
                storeId = member.storeId
            }
            guard let store = try await StoreInfo.load(storeId, settings: settings, on: connection, logger: logger),
                Bookings.seesStore(caller, storeId: storeId, dealerId: store.dealerId)
            else { throw ProblemDetails.validation(field: "storeId", "is not a store this caller can book at") }
            let now = clock.now()
            let first = StoreDay(containing: now, in: store.timeZone)
            let last = first.adding(days: days - 1)
            let board = try await SlotBoard.load(dealerId: store.dealerId, from: first, to: last, on: connection, logger: logger)
            var slots: [FreeSlot] = []
            for offset in 0..<days {
                let day = first.adding(days: offset)
                for window in store.windows where day.instant(atMinute: window.fromMinute) > now {
                    let room = board.room(for: day.window(window, serviceType: key, store: storeId), day: day, crewSize: type.crewSize)
                    guard room > 0 else { continue }
                    let (starts, ends) = (day.instant(atMinute: window.fromMinute), day.instant(atMinute: window.toMinute))
                    slots.append(FreeSlot(date: day.day, window: window.description, startsAt: starts, endsAt: ends, room: room))
                }
            }
            return FreeSlots(storeId: storeId, serviceType: key, slots: slots)
        }
    }

    func book(_ request: BookingRequest, by caller: Principal, idempotencyKey: String?) async throws -> BookingView {
        let type = try await catalog.type(request.serviceType, field: "serviceType")
        let memberId = try Bookings.memberId(request.memberId, caller: caller)
        // A key is the caller's own: another caller's same key is another booking.
        let key = idempotencyKey.map { "\(caller.subject)/\($0)" }
        return try await database.transaction(logger: logger) { connection in
            if let key {
                // Requests with one key wait for each other here; the later ones find the first's booking.
                let existing = try await TransactionLock.answered(key, in: .bookingKey, on: connection, logger: logger) {
                    try await bookings.view(where: "b.idempotency_key = $1", key, on: connection).first
                }
                if let existing { return existing }
            }
            let member = try await bookings.placement(memberId, for: caller, on: connection)
            if let followed = request.followUpOrder { try await bookings.checkFollowUp(followed, memberId: member.memberId, on: connection) }
            let (store, day, window) = try await bookings.slot(request.date, request.window, storeId: member.storeId, on: connection)
            try await SlotBoard.lock(dealerId: store.dealerId, day: day.day, on: connection, logger: logger)
            let board = try await SlotBoard.load(dealerId: store.dealerId, from: day, to: day, on: connection, logger: logger)
            guard board.room(for: day.window(window, serviceType: type.key, store: store.storeId), day: day, crewSize: type.crewSize) > 0 else {
                throw ProblemDetails.conflict("The slot \(day.day) \(window) is full for \(type.name); choose another free slot.")
            }
            let now = clock.now()
            let id = UUID()
            let (starts, ends) = (day.instant(atMinute: window.fromMinute), day.instant(atMinute: window.toMinute))
            let status = request.couponCode == nil ? "confirmed" : "awaiting_coupon"
            try await connection.query(
                """
                INSERT INTO bookings (id, member_id, store_id, dealer_id, guide_id, service_type, crew_size, day, window_from, window_to, starts_at, ends_at,
                                      address, note, coupon_code, status, booked_by, follow_up_of, idempotency_key, created_at, updated_at)
                VALUES (\(id), \(member.memberId), \(member.storeId), \(member.dealerId), \(member.guideId), \(type.key), \(type.crewSize), \(day.day)::date,
                        \(window.fromMinute), \(window.toMinute), \(starts), \(ends), \(request.address), \(request.note), \(request.couponCode),
                        \(status), \(caller.subject), \(request.followUpOrder), \(key), \(now), \(now))
                """,
                logger: logger
            )
            try await bookings.record(BookingRequestedKind.self, id, actor: caller.subject, reason: nil, on: connection)
            if request.couponCode == nil {
                try await bookings.confirm(id, type: type, actor: caller.subject, on: connection)
            } else {
                let due = now.addingTimeInterval(settings.couponWait)
                try await JobScheduler.schedule(
                    kind: Bookings.couponWaitJob,
                    dueAt: due,
                    payload: "\(id)",
                    uniqueKey: "coupon-wait-\(id)",
                    on: connection,
                    logger: logger
                )
            }
            guard let view = try await bookings.view(where: "b.id = $1", id, on: connection).first else {
                throw ProblemDetails.notFound("No such booking.")
            }
            return view
        }
    }
}

/// Bookings on one connection: what the desk and the event handlers share (confirming into
/// an order, who may book for whom, which slot a request names, each change's event).
struct Bookings: Sendable {
    static let couponWaitJob = "dispatch.booking.coupon_wait"

    let outbox: Outbox
    let dispatcher: CrewDispatcher
    var orders: Orders { dispatcher.orders }
    var settings: DispatchSettings { dispatcher.settings }
    var clock: any BusinessClock { dispatcher.clock }
    var logger: Logger { dispatcher.logger }

    /// The booking becomes a service order with a snapshot of its service type, offered to a crew.
    func confirm(_ bookingId: UUID, type: ServiceType, actor: String, on connection: PostgresConnection) async throws {
        let now = clock.now()
        let orderId = UUID()
        let definition = String(decoding: try JSONEncoder().encode(type), as: UTF8.self)
        try await connection.query(
            """
            WITH confirmed AS (UPDATE bookings SET status = 'confirmed', updated_at = \(now) WHERE id = \(bookingId) RETURNING *)
            INSERT INTO orders (id, booking_id, member_id, store_id, dealer_id, guide_id, service_type, definition, status, starts_at, ends_at, address,
                                follow_up_of, created_at, updated_at)
            SELECT \(orderId), id, member_id, store_id, dealer_id, guide_id, service_type, \(definition)::jsonb, 'pending_dispatch', starts_at, ends_at,
                   address, follow_up_of, \(now), \(now)
            FROM confirmed
            """,
            logger: logger
        )
        guard let order = try await orders.load(orderId, lock: true, on: connection) else { return }
        try await record(BookingConfirmedKind.self, bookingId, actor: actor, reason: nil, on: connection)
        try await orders.record(OrderCreatedKind.self, order, actor: actor, reason: nil, at: now, on: connection)
        try await dispatcher.scheduleCrewCheck(order, on: connection)
        try await dispatcher.fillSeats(orderId, actor: "dispatch", on: connection)
    }

    static func seesStore(_ caller: Principal, storeId: String, dealerId: String) -> Bool {
        switch caller.role {
        case .hqAdmin, .service, .member: true
        case .dealerAdmin: caller.dealerID == dealerId
        case .storeManager, .guide, .technician: caller.storeID == storeId
        }
    }

    /// A follow-up is of one of the member's visits that ended without the work done.
    func checkFollowUp(_ orderId: UUID, memberId: String, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("SELECT status FROM orders WHERE id = \(orderId) AND member_id = \(memberId)", logger: logger)
        let status = try await rows.collect().first?.decode(String.self)
        guard status == OrderStatus.cannotComplete.rawValue || status == OrderStatus.noAccess.rawValue else {
            throw ProblemDetails.validation(field: "followUpOf", "must be an order of this member that could not be completed or found nobody home")
        }
    }

    /// Members book for themselves; staff name the member.
    static func memberId(_ named: String?, caller: Principal) throws -> String {
        let named = named.map(UUID.canonical)
        if caller.role == .member {
            if let named, named != caller.subject { throw ProblemDetails.forbidden("Members book only for themselves.") }
            return caller.subject
        }
        guard let named else { throw ProblemDetails.validation(field: "memberId", "is required when staff book for a member") }
        return named
    }

    /// Where the member belongs, if the caller may book and see for them.
    func placement(_ memberId: String, for caller: Principal, on connection: PostgresConnection) async throws -> Access.Placement {
        let rows = try await connection.query(
            "SELECT member_id, guide_id, store_id, dealer_id FROM members WHERE member_id = \(memberId)",
            logger: logger
        )
        guard let (id, guide, store, dealer) = try await rows.collect().first?.decode((String, String?, String, String).self),
            Access.covers(caller, .init(memberId: id, guideId: guide, storeId: store, dealerId: dealer))
        else { throw ProblemDetails.validation(field: "memberId", "is not a member this caller can book for") }
        return .init(memberId: id, guideId: guide, storeId: store, dealerId: dealer)
    }

    /// A bookable slot of the store: one of its windows, on a day not yet begun there,
    /// within the booking horizon.
    func slot(
        _ date: String,
        _ windowText: String,
        storeId: String,
        on connection: PostgresConnection
    ) async throws -> (StoreInfo, StoreDay, SlotWindow) {
        guard let store = try await StoreInfo.load(storeId, settings: settings, on: connection, logger: logger) else {
            throw ProblemDetails.validation(field: "memberId", "belongs to a store dispatch does not know yet")
        }
        guard let day = StoreDay(date, in: store.timeZone) else { throw ProblemDetails.validation(field: "date", "must be a date, YYYY-MM-DD") }
        guard let window = SlotWindow(windowText), store.windows.contains(window) else {
            throw ProblemDetails.validation(
                field: "window",
                "is not a window of the store: \(store.windows.map(\.description).joined(separator: ", "))"
            )
        }
        let now = clock.now()
        let starts = day.instant(atMinute: window.fromMinute)
        if starts <= now { throw ProblemDetails.validation(field: "date", "is in the past: the slot has begun") }
        if starts > now.addingTimeInterval(TimeInterval(settings.bookingHorizonDays) * 86400) {
            throw ProblemDetails.validation(field: "date", "is more than \(settings.bookingHorizonDays) days ahead")
        }
        return (store, day, window)
    }

    /// The booking's event of kind `Kind`, as the booking stands.
    func record<Kind: DispatchChangeKind>(
        _ kind: Kind.Type,
        _ bookingId: UUID,
        actor: String,
        reason: String?,
        on connection: PostgresConnection
    ) async throws {
        let rows = try await connection.query(
            """
            SELECT o.id, b.member_id, b.store_id, b.dealer_id, b.service_type, b.starts_at, b.coupon_code
            FROM bookings b LEFT JOIN orders o ON o.booking_id = b.id WHERE b.id = \(bookingId)
            """,
            logger: logger
        )
        guard let row = try await rows.collect().first else { return }
        let (order, member, store, dealer, type, starts, coupon) = try row.decode((UUID?, String, String, String, String, Date, String?).self)
        let change = BookingChange<Kind>(
            bookingId: bookingId,
            orderId: order,
            memberId: member,
            storeId: store,
            dealerId: dealer,
            serviceType: type,
            startsAt: starts,
            couponCode: coupon,
            actorId: actor,
            reason: reason
        )
        try await outbox.record(change, aggregateID: "booking-\(bookingId)", on: connection)
    }

    func view(where condition: String, _ value: some PostgresEncodable & Sendable, on connection: PostgresConnection) async throws -> [BookingView] {
        var bindings = PostgresBindings()
        try bindings.append(value)
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT b.id, b.member_id, b.store_id, b.service_type, b.day::text, b.window_from, b.window_to, b.starts_at, b.ends_at, b.address,
                           b.note, b.coupon_code, b.status, b.reason, o.id, b.follow_up_of
                    FROM bookings b LEFT JOIN orders o ON o.booking_id = b.id WHERE \(condition) ORDER BY b.starts_at LIMIT 200
                    """,
                binds: bindings
            ),
            logger: logger
        )
        var views: [BookingView] = []
        for try await (id, member, store, type, day, from, to, starts, ends, address, note, coupon, status, reason, order, followed) in rows.decode(
            (UUID, String, String, String, String, Int, Int, Date, Date, String, String?, String?, String, String?, UUID?, UUID?).self
        ) {
            views.append(
                BookingView(
                    id: id,
                    memberId: member,
                    storeId: store,
                    serviceType: type,
                    date: day,
                    window: SlotWindow(from: from, to: to).description,
                    startsAt: starts,
                    endsAt: ends,
                    address: address,
                    note: note,
                    couponCode: coupon,
                    status: status,
                    reason: reason,
                    orderId: order,
                    followUpOf: followed
                )
            )
        }
        return views
    }
}
