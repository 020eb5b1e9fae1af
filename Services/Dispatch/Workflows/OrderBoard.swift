import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// A service order as the crew, the member and staff see it.
struct OrderView: ResponseCodable, Sendable, Equatable {
    struct Member: Codable, Sendable, Equatable {
        let memberId: String
        let name: String?
        /// Masked for a technician until the order is dispatched to them; full while they
        /// are on the visit, so they can call ahead.
        let phone: String?
    }

    struct SeatView: Codable, Sendable, Equatable {
        let seat: Int
        let technicianId: String
        let name: String?
        let status: Seat.Status
        let expiresAt: Date?
        let why: String
    }

    struct StepView: Codable, Sendable, Equatable {
        /// 1-based, in the order the steps are worked.
        let step: Int
        let title: String
        let required: Bool
        let needsNote: Bool
        let needsPhoto: Bool
        let doneBy: String?
        let doneAt: Date?
        let note: String?
        let photo: String?
    }

    struct Entry: Codable, Sendable, Equatable {
        let at: Date
        let kind: String
        let actor: String
        let detail: String?
    }

    let id: UUID
    let bookingId: UUID
    let status: OrderStatus
    let reason: String?
    let serviceType: String
    let serviceName: String
    let storeId: String
    let startsAt: Date
    let endsAt: Date
    let address: String
    let member: Member
    let seats: [SeatView]
    let checklist: [StepView]
    var timeline: [Entry]? = nil
}

struct OrderListing: ResponseCodable, Sendable {
    let orders: [OrderView]
}

/// Reads orders within the caller's scope.
struct OrderBoard: Sendable {
    let database: PostgresClient
    let orders: Orders
    let logger: Logger

    func show(_ id: UUID, by caller: Principal) async throws -> OrderView {
        try await database.transaction(logger: logger) { connection in
            guard let order = try await orders.load(id, lock: false, on: connection), Self.sees(caller, order) else {
                throw ProblemDetails.notFound("No such order.")
            }
            var view = try await view(order, for: caller, on: connection)
            view.timeline = try await timeline(id, on: connection)
            return view
        }
    }

    /// The caller's orders: open ones first, soonest first (a technician's today comes first).
    func list(by caller: Principal, status: OrderStatus?) async throws -> OrderListing {
        let scope: String
        switch caller.role {
        case .technician: scope = "o.id IN (SELECT order_id FROM order_seats WHERE technician_id = $1)"
        case .member: scope = "o.member_id = $1"
        case .guide: scope = "o.guide_id = $1"
        case .storeManager: scope = "o.store_id = $1"
        case .dealerAdmin: scope = "o.dealer_id = $1"
        case .hqAdmin, .service: scope = "$1::text IS NOT NULL"
        }
        let key: String =
            switch caller.role {
            case .storeManager: caller.storeID ?? ""
            case .dealerAdmin: caller.dealerID ?? ""
            default: caller.subject
            }
        var binds = PostgresBindings()
        binds.append(key)
        binds.append(status?.rawValue)
        let bindings = binds
        return try await database.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT o.id FROM orders o WHERE \(scope) AND ($2::text IS NULL OR o.status = $2)
                        ORDER BY o.status IN ('completed', 'cancelled', 'no_access', 'cannot_complete'), o.starts_at LIMIT 100
                        """,
                    binds: bindings
                ),
                logger: logger
            )
            var views: [OrderView] = []
            for id in try await rows.collect().map({ try $0.decode(UUID.self) }) {
                if let order = try await orders.load(id, lock: false, on: connection) {
                    views.append(try await view(order, for: caller, on: connection))
                }
            }
            return OrderListing(orders: views)
        }
    }

    static func sees(_ caller: Principal, _ order: ServiceOrder) -> Bool {
        caller.role == .technician ? order.seat(of: caller.subject) != nil : Access.covers(caller, order.placement)
    }

    func view(_ order: ServiceOrder, for caller: Principal, on connection: PostgresConnection) async throws -> OrderView {
        let memberRows = try await connection.query("SELECT name, phone FROM members WHERE member_id = \(order.memberId)", logger: logger)
        let (name, phone) = try await memberRows.collect().first?.decode((String?, String?).self) ?? (nil, nil)
        let onTheVisit = order.seat(of: caller.subject)?.status == .accepted && [.dispatched, .enRoute, .inProgress].contains(order.status)
        let shownPhone = caller.role == .technician && !onTheVisit ? PhoneMask.mask(phone) : phone
        let names = try await technicianNames(order.seats.map(\.technicianId), on: connection)
        let done = try await steps(order.id, on: connection)
        return OrderView(
            id: order.id,
            bookingId: order.bookingId,
            status: order.status,
            reason: order.reason,
            serviceType: order.serviceType.key,
            serviceName: order.serviceType.name,
            storeId: order.storeId,
            startsAt: order.startsAt,
            endsAt: order.endsAt,
            address: order.address,
            member: .init(memberId: order.memberId, name: name, phone: shownPhone),
            seats: order.seats.map {
                .init(
                    seat: $0.seat,
                    technicianId: $0.technicianId,
                    name: names[$0.technicianId],
                    status: $0.status,
                    expiresAt: $0.expiresAt,
                    why: $0.why
                )
            },
            checklist: order.serviceType.steps.enumerated().map { index, step in
                let mark = done[index + 1]
                return .init(
                    step: index + 1,
                    title: step.title,
                    required: step.required,
                    needsNote: step.needsNote,
                    needsPhoto: step.needsPhoto,
                    doneBy: mark?.doneBy,
                    doneAt: mark?.doneAt,
                    note: mark?.note,
                    photo: mark?.photo
                )
            }
        )
    }

    struct Mark: Sendable {
        let doneBy: String
        let doneAt: Date
        let note: String?
        let photo: String?
    }

    /// The steps done so far, by 1-based step.
    func steps(_ orderId: UUID, on connection: PostgresConnection) async throws -> [Int: Mark] {
        let rows = try await connection.query(
            "SELECT step, done_by, done_at, note, photo FROM order_steps WHERE order_id = \(orderId)",
            logger: logger
        )
        var marks: [Int: Mark] = [:]
        for try await (step, by, at, note, photo) in rows.decode((Int, String, Date, String?, String?).self) {
            marks[step] = Mark(doneBy: by, doneAt: at, note: note, photo: photo)
        }
        return marks
    }

    private func technicianNames(_ ids: [String], on connection: PostgresConnection) async throws -> [String: String] {
        let rows = try await connection.query("SELECT technician_id, name FROM technicians WHERE technician_id = ANY(\(ids))", logger: logger)
        var names: [String: String] = [:]
        for try await (id, name) in rows.decode((String, String?).self) { names[id] = name }
        return names
    }

    private func timeline(_ id: UUID, on connection: PostgresConnection) async throws -> [OrderView.Entry] {
        let rows = try await connection.query(
            "SELECT at, kind, actor, detail FROM order_timeline WHERE order_id = \(id) ORDER BY at, id LIMIT 500",
            logger: logger
        )
        var entries: [OrderView.Entry] = []
        for try await (at, kind, actor, detail) in rows.decode((Date, String, String, String?).self) {
            entries.append(.init(at: at, kind: kind, actor: actor, detail: detail))
        }
        return entries
    }
}
