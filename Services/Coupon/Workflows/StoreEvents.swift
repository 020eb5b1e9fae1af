import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Store events: a store manager, dealer admin or HQ sets one up at a store with a gift
/// template and a capacity; guides and store staff invite members; members check in (their
/// own token and the event's check-in code, shown at the store as a QR code) or staff check
/// them in, and the first check-in issues the gift (`StoreEvents+CheckIn.swift`).
struct StoreEvents: Sendable {
    let database: PostgresClient
    let directory: Directory
    let issuer: Issuer
    let outbox: Outbox
    let logger: Logger
    var clock: any BusinessClock { issuer.clock }

    struct View: ResponseCodable, Sendable, Equatable {
        let id: UUID
        let name: String
        let storeId: String
        let dealerId: String
        let startsAt: Date
        let endsAt: Date
        let giftTemplateId: UUID
        let capacity: Int?
        /// The QR payload members scan; staff see it, members do not.
        var checkInCode: String?
        let invited: Int
        let checkedIn: Int
        let createdBy: String
        let createdAt: Date

        func withoutCode() -> View {
            var view = self
            view.checkInCode = nil
            return view
        }
    }

    struct Listing: ResponseCodable, Sendable {
        let events: [View]
    }

    struct Invited: ResponseCodable, Sendable, Equatable {
        let invited: [String]
        let alreadyInvited: [String]
    }

    static let columns = """
        id, name, store_id, dealer_id, starts_at, ends_at, template_id, capacity, check_in_code, invited, checked_in, created_by, created_at
        """

    func create(_ request: StoreEventRequest, by caller: Principal) async throws -> View {
        guard let startsAt = request.starts, let endsAt = request.ends else { throw ProblemDetails.validation(field: "startsAt", "is required") }
        guard endsAt > clock.now() else { throw ProblemDetails.validation(field: "endsAt", "must be in the future") }
        return try await database.transaction(logger: logger) { connection in
            guard let dealer = try await directory.dealer(ofStore: request.storeId, on: connection),
                Self.manages(caller, storeId: request.storeId, dealerId: dealer)
            else { throw ProblemDetails.validation(field: "storeId", "is not a store you manage") }
            let template = try await issuer.check(request.giftTemplateId, dealerId: dealer, role: nil, on: connection)
            guard Access.seesTemplate(caller, dealerId: template.dealerId) else {
                throw ProblemDetails.validation(field: "giftTemplateId", "is not a coupon template you may use")
            }
            let id = UUID()
            let now = clock.now()
            let rows = try await connection.query(
                """
                INSERT INTO store_events (id, name, store_id, dealer_id, starts_at, ends_at, template_id, capacity, check_in_code, created_by, created_at)
                VALUES (\(id), \(request.name), \(request.storeId), \(dealer), \(startsAt), \(endsAt), \(template.id), \(request.capacity),
                        \(Self.checkInCode()), \(caller.subject), \(now))
                RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw ProblemDetails.notFound("No such event.") }
            let event = try Self.view(row)
            let created = StoreEventCreated(
                eventId: id,
                name: event.name,
                storeId: event.storeId,
                dealerId: dealer,
                startsAt: startsAt,
                endsAt: endsAt,
                giftTemplateId: template.id,
                capacity: event.capacity,
                createdBy: caller.subject
            )
            try await outbox.record(created, aggregateID: "store-event-\(id.lowercasedString)", on: connection)
            return event
        }
    }

    /// Staff: their scope's events, newest first (a store's staff their store's); members:
    /// the events they are invited to.
    func list(storeId: String?, for caller: Principal) async throws -> Listing {
        let member = caller.role == .member ? caller.subject : ""
        let rows = try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM store_events e
            WHERE (\(storeId)::text IS NULL OR store_id = \(storeId))
              AND (\(caller.role == .hqAdmin)
                   OR (\(caller.role == .dealerAdmin) AND dealer_id = \(caller.dealerID ?? ""))
                   OR (\(caller.role == .storeManager || caller.role == .guide) AND store_id = \(caller.storeID ?? ""))
                   OR EXISTS (SELECT 1 FROM event_invitations i WHERE i.event_id = e.id AND i.member_id = \(member)))
            ORDER BY starts_at DESC, id LIMIT 200
            """,
            logger: logger
        )
        return Listing(events: try rows.map { caller.role == .member ? try Self.view($0).withoutCode() : try Self.view($0) })
    }

    func show(_ id: UUID, for caller: Principal) async throws -> View {
        try await database.transaction(logger: logger) { connection in try await event(id, for: caller, on: connection) }
    }

    /// The event if the caller sees it (as staff in its scope, or a member it invited); a
    /// member is not shown the check-in code.
    func event(_ id: UUID, for caller: Principal, on connection: PostgresConnection) async throws -> View {
        let event = try await stored(id, on: connection)
        if Self.sees(caller, event) { return event }
        if caller.role == .member {
            let invited = try await connection.query(
                "SELECT 1 FROM event_invitations WHERE event_id = \(id) AND member_id = \(caller.subject)",
                logger: logger
            ).collect()
            if !invited.isEmpty { return event.withoutCode() }
        }
        throw ProblemDetails.notFound("No such event.")
    }

    /// The event as stored, whoever asks.
    func stored(_ id: UUID, on connection: PostgresConnection) async throws -> View {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns) FROM store_events WHERE id = \(id)", logger: logger).collect()
        guard let row = rows.first else { throw ProblemDetails.notFound("No such event.") }
        return try Self.view(row)
    }

    /// Invites members the caller serves (a guide their own, store staff their store's) of
    /// the event's dealer; one invitation each, however often they are invited.
    func invite(_ id: UUID, _ request: InvitationRequest, by caller: Principal) async throws -> Invited {
        try await database.transaction(logger: logger) { connection in
            let event = try await event(id, for: caller, on: connection)
            guard caller.role != .member else { throw ProblemDetails.forbidden("Members do not invite.") }
            guard event.endsAt > clock.now() else { throw ProblemDetails.conflict("\(event.name) is over.") }
            for (index, memberId) in request.memberIds.enumerated() {
                guard let member = try await directory.member(memberId, on: connection), caller.covers(member), member.dealerId == event.dealerId
                else { throw ProblemDetails.validation(field: "memberIds[\(index)]", "is not a member you serve at this dealer") }
            }
            let now = clock.now()
            let rows = try await connection.query(
                """
                INSERT INTO event_invitations (event_id, member_id, invited_by, invited_at)
                SELECT \(id), m, \(caller.subject), \(now) FROM unnest(\(request.memberIds)::text[]) AS m
                ON CONFLICT DO NOTHING
                RETURNING member_id
                """,
                logger: logger
            ).collect()
            let invited = try rows.map { try $0.decode(String.self) }
            try await connection.query("UPDATE store_events SET invited = invited + \(invited.count) WHERE id = \(id)", logger: logger)
            let entries = invited.map { member in
                let payload = StoreEventMemberInvited(
                    eventId: id,
                    name: event.name,
                    memberId: member,
                    storeId: event.storeId,
                    startsAt: event.startsAt,
                    endsAt: event.endsAt,
                    invitedBy: caller.subject
                )
                return Outbox.Entry(payload, aggregateID: "store-event-\(id.lowercasedString)")
            }
            try await outbox.record(batch: entries, on: connection)
            let fresh = Set(invited)
            return Invited(invited: invited.sorted(), alreadyInvited: Array(Set(request.memberIds).subtracting(fresh)).sorted())
        }
    }

    /// Who sets events up at a store: its manager, its dealer's admin, HQ.
    static func manages(_ caller: Principal, storeId: String, dealerId: String) -> Bool {
        switch caller.role {
        case .hqAdmin: true
        case .dealerAdmin: caller.dealerID == dealerId
        case .storeManager: caller.storeID == storeId
        default: false
        }
    }

    /// Staff who see an event: HQ, its dealer's admin, its store's manager and guides.
    static func sees(_ caller: Principal, _ event: View) -> Bool {
        switch caller.role {
        case .hqAdmin: true
        case .dealerAdmin: caller.dealerID == event.dealerId
        case .storeManager, .guide: caller.storeID == event.storeId
        default: false
        }
    }

    /// Sixteen characters from a cryptographic source: the QR payload shown at the store.
    static func checkInCode() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(CouponCode.alphabet.randomElement(using: &generator) ?? "A") }.joined()
    }

    static func view(_ row: PostgresRow) throws -> View {
        let (id, name, store, dealer, starts, ends, template, capacity, code, invited, checkedIn, by, at) = try row.decode(
            (UUID, String, String, String, Date, Date, UUID, Int?, String, Int, Int, String, Date).self
        )
        return View(
            id: id,
            name: name,
            storeId: store,
            dealerId: dealer,
            startsAt: starts,
            endsAt: ends,
            giftTemplateId: template,
            capacity: capacity,
            checkInCode: code,
            invited: invited,
            checkedIn: checkedIn,
            createdBy: by,
            createdAt: at
        )
    }
}

/// `POST /api/v1/store-events`.
struct StoreEventRequest: ValidatedRequest, Sendable {
    let name: String
    let storeId: String
    let startsAt: String
    let endsAt: String
    let giftTemplateId: UUID
    let capacity: Int?

    var starts: Date? { ISO8601.date(startsAt) }
    var ends: Date? { ISO8601.date(endsAt) }

    func validate() -> [FieldProblem] {
        var problems = validateName(name, field: "name") + validateCode(storeId, field: "storeId")
        if starts == nil { problems.append(.init(field: "startsAt", message: "must be an ISO 8601 date and time")) }
        if ends == nil { problems.append(.init(field: "endsAt", message: "must be an ISO 8601 date and time")) }
        if let starts, let ends, !(starts < ends && ends.timeIntervalSince(starts) <= 7 * 86400) {
            problems.append(.init(field: "endsAt", message: "must be after startsAt, within seven days of it"))
        }
        if let capacity, !(1...100_000).contains(capacity) { problems.append(.init(field: "capacity", message: "must be 1 to 100000")) }
        return problems
    }
}

/// `POST /api/v1/store-events/{id}/invitations`.
struct InvitationRequest: ValidatedRequest, Sendable {
    let memberIds: [String]

    func validate() -> [FieldProblem] {
        guard (1...500).contains(memberIds.count) else { return [.init(field: "memberIds", message: "must list 1 to 500 members")] }
        return memberIds.enumerated().flatMap { validateCode($1, field: "memberIds[\($0)]") }
    }
}
