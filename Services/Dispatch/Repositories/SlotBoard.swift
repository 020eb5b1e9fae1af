import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// A store as dispatch books it: its dealer, time zone and bookable windows.
struct StoreInfo: Sendable, Equatable {
    let storeId: String
    let dealerId: String
    let timeZone: TimeZone
    let windows: [SlotWindow]

    static func load(_ storeId: String, settings: DispatchSettings, on connection: PostgresConnection, logger: Logger) async throws -> StoreInfo? {
        let rows = try await connection.query(
            "SELECT dealer_id, time_zone, slot_windows::text FROM stores WHERE store_id = \(storeId)",
            logger: logger
        )
        guard let (dealer, zone, windows) = try await rows.collect().first?.decode((String, String, String?).self) else { return nil }
        let own = windows.flatMap { try? JSONDecoder().decode([SlotWindow].self, from: Data($0.utf8)) }
        return StoreInfo(
            storeId: storeId,
            dealerId: dealer,
            timeZone: TimeZone(checking: zone) ?? .gmt,
            windows: (own?.isEmpty ?? true) ? settings.slotWindows : own ?? settings.slotWindows
        )
    }
}

/// Everything that decides whether a slot has room and who may take a seat, for one dealer's
/// technicians over a run of days: their profiles, the seats they hold (busy at that time,
/// counted against their day and week), and the seats of bookings nobody holds yet (spoken
/// for, by someone still to be found). Loaded in three queries (two to staff an order); the rules are `CrewChoice`.
struct SlotBoard: Sendable {
    struct HeldSeat: Sendable {
        let technicianId: String
        let orderId: UUID
        let startsAt: Date
        let endsAt: Date
    }

    struct OpenSeats: Sendable {
        let bookingId: UUID
        let startsAt: Date
        let endsAt: Date
        let count: Int
    }

    let technicians: [TechnicianProfile]
    let held: [HeldSeat]
    let open: [OpenSeats]

    /// Serialises everything that books or moves a visit of one dealer on one local day, so
    /// two bookings never both take the last room.
    static func lock(dealerId: String, day: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await TransactionLock.hold("\(dealerId)/\(day)", in: .dealerDay, on: connection, logger: logger)
    }

    /// The same lock for the day a booking is on, read without locking the booking's row:
    /// taken before that row, as everything that books, moves or staffs a visit takes them.
    static func lockDay(ofBooking id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        let day = try await connection.query("SELECT dealer_id, day::text FROM bookings WHERE id = \(id)", logger: logger)
        try await lock(day, on: connection, logger: logger)
    }

    /// The same for the day of an order's booking, before the order's row is locked.
    static func lockDay(ofOrder id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        let day = try await connection.query(
            "SELECT b.dealer_id, b.day::text FROM orders o JOIN bookings b ON b.id = o.booking_id WHERE o.id = \(id)",
            logger: logger
        )
        try await lock(day, on: connection, logger: logger)
    }

    private static func lock(_ day: PostgresRowSequence, on connection: PostgresConnection, logger: Logger) async throws {
        for try await (dealerId, localDay) in day.decode((String, String).self) {
            try await lock(dealerId: dealerId, day: localDay, on: connection, logger: logger)
        }
    }

    /// The board for `first` to `last` (local days of the store), with whole weeks around
    /// them so weekly counts are right. Staffing an order needs no `open` seats (`room`
    /// does), so `withOpenSeats: false` leaves that query out of every offer timer.
    static func load(
        dealerId: String,
        from first: StoreDay,
        to last: StoreDay,
        withOpenSeats: Bool = true,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws
        -> SlotBoard
    {
        let start = first.monday.midnight
        let end = last.monday.adding(days: 7).midnight
        let technicians = try await Technicians.profiles(dealerId: dealerId, on: connection, logger: logger)
        let seatRows = try await connection.query(
            """
            SELECT s.technician_id, o.id, o.starts_at, o.ends_at FROM order_seats s JOIN orders o ON o.id = s.order_id
            WHERE o.dealer_id = \(dealerId) AND o.starts_at >= \(start) AND o.starts_at < \(end) AND o.status <> 'cancelled'
            """,
            logger: logger
        )
        var held: [HeldSeat] = []
        for try await (technician, order, starts, ends) in seatRows.decode((String, UUID, Date, Date).self) {
            held.append(HeldSeat(technicianId: technician, orderId: order, startsAt: starts, endsAt: ends))
        }
        guard withOpenSeats else { return SlotBoard(technicians: technicians, held: held, open: []) }
        let openRows = try await connection.query(
            """
            SELECT b.id, b.starts_at, b.ends_at,
                   b.crew_size - (SELECT count(*) FROM orders o JOIN order_seats s ON s.order_id = o.id WHERE o.booking_id = b.id)::int
            FROM bookings b
            WHERE b.dealer_id = \(dealerId) AND b.status IN ('awaiting_coupon', 'confirmed') AND b.starts_at >= \(start) AND b.starts_at < \(end)
            """,
            logger: logger
        )
        var open: [OpenSeats] = []
        for try await (booking, starts, ends, count) in openRows.decode((UUID, Date, Date, Int).self) where count > 0 {
            open.append(OpenSeats(bookingId: booking, startsAt: starts, endsAt: ends, count: count))
        }
        return SlotBoard(technicians: technicians, held: held, open: open)
    }

    /// Visits each technician holds on `day` and in its week.
    func workload(on day: StoreDay) -> Workload {
        let (dayStart, dayEnd) = (day.midnight, day.adding(days: 1).midnight)
        let (weekStart, weekEnd) = (day.monday.midnight, day.monday.adding(days: 7).midnight)
        var workload = Workload()
        for seat in held {
            if seat.startsAt >= dayStart, seat.startsAt < dayEnd { workload.onDay[seat.technicianId, default: 0] += 1 }
            if seat.startsAt >= weekStart, seat.startsAt < weekEnd { workload.inWeek[seat.technicianId, default: 0] += 1 }
        }
        return workload
    }

    /// Who holds a seat on any other order overlapping `from`..<`to`.
    func busy(from: Date, to: Date, exceptOrder: UUID? = nil) -> Set<String> {
        Set(held.filter { $0.orderId != exceptOrder && $0.startsAt < to && from < $0.endsAt }.map(\.technicianId))
    }

    /// Technicians who pass every hard rule for the window and are free then.
    func free(for window: VisitWindow, day: StoreDay, exceptOrder: UUID? = nil) -> [TechnicianProfile] {
        let (from, to) = (day.instant(atMinute: window.fromMinute), day.instant(atMinute: window.toMinute))
        let busy = busy(from: from, to: to, exceptOrder: exceptOrder)
        let workload = workload(on: day)
        return technicians.filter { !busy.contains($0.id) && CrewChoice.refusal($0, for: window, workload: workload) == nil }
    }

    /// How many more bookings of a crew of `crewSize` the window takes: free technicians less
    /// the seats other bookings in that time still need, and no more than the free
    /// technicians' visits left that day less every seat still needed that day.
    func room(for window: VisitWindow, day: StoreDay, crewSize: Int, exceptBooking: UUID? = nil) -> Int {
        guard crewSize > 0 else { return 0 }
        let (from, to) = (day.instant(atMinute: window.fromMinute), day.instant(atMinute: window.toMinute))
        let (dayStart, dayEnd) = (day.midnight, day.adding(days: 1).midnight)
        let others = open.filter { $0.bookingId != exceptBooking }
        let free = free(for: window, day: day)
        let neededNow = others.filter { $0.startsAt < to && from < $0.endsAt }.reduce(0) { $0 + $1.count }
        let neededToday = others.filter { $0.startsAt >= dayStart && $0.startsAt < dayEnd }.reduce(0) { $0 + $1.count }
        let workload = workload(on: day)
        let visitsLeft = free.reduce(0) { $0 + max(0, $1.visitsPerDay - workload.onDay[$1.id, default: 0]) }
        return max(0, min(free.count - neededNow, visitsLeft - neededToday) / crewSize)
    }
}

extension TransactionLock.Space {
    /// A dealer's local day of slots.
    static let dealerDay = Self(22)
    /// A booking's `Idempotency-Key`.
    static let bookingKey = Self(24)
}
