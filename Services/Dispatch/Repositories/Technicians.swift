import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Technicians' service profiles: read by their managers, store managers and themselves,
/// set by their dealer's admin or HQ. Each change is an event.
struct Technicians: Sendable {
    let database: PostgresClient
    let outbox: Outbox
    let clock: any BusinessClock
    let logger: Logger

    struct View: ResponseCodable, Sendable, Equatable {
        let technicianId: String
        let dealerId: String
        let homeStore: String?
        let name: String?
        let active: Bool
        let skills: [String]
        let territory: [String]
        let hours: [TechnicianHours]
        let daysOff: [String]
        let visitsPerDay: Int
    }

    struct Listing: ResponseCodable, Sendable {
        let technicians: [View]
    }

    static let columns = "technician_id, dealer_id, home_store, name, active, skills, territory, hours::text, days_off, visits_per_day"

    func list(for caller: Principal) async throws -> Listing {
        let rows: [PostgresRow]
        if caller.role == .hqAdmin {
            rows = try await database.rows("SELECT \(unescaped: Self.columns) FROM technicians ORDER BY technician_id LIMIT 1000", logger: logger)
        } else {
            let dealer = caller.dealerID ?? ""
            rows = try await database.rows(
                "SELECT \(unescaped: Self.columns) FROM technicians WHERE dealer_id = \(dealer) ORDER BY technician_id LIMIT 1000",
                logger: logger
            )
        }
        return Listing(technicians: try rows.map(Self.view))
    }

    func show(_ id: String, for caller: Principal) async throws -> View {
        let rows = try await database.rows("SELECT \(unescaped: Self.columns) FROM technicians WHERE technician_id = \(id)", logger: logger)
        guard let view = try rows.first.map(Self.view), Access.seesTechnician(caller, technicianId: id, dealerId: view.dealerId) else {
            throw ProblemDetails.notFound("No such technician.")
        }
        return view
    }

    func setProfile(_ id: String, _ request: ProfileRequest, by caller: Principal) async throws -> View {
        try await database.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM technicians WHERE technician_id = \(id) FOR UPDATE",
                logger: logger
            )
            guard let current = try await rows.collect().first.map(Self.view), Access.managesTechnicians(caller, dealerId: current.dealerId) else {
                throw ProblemDetails.notFound("No such technician.")
            }
            try await check(request, dealerId: current.dealerId, on: connection)
            let hours = try TechnicianHours.encode(TechnicianHours.weeklyHours(request.hours))
            let (skills, territory, daysOff) = (request.skills.sorted(), request.territory.sorted(), request.daysOff.sorted())
            let updated = try await connection.query(
                """
                UPDATE technicians SET skills = \(skills), territory = \(territory), hours = \(hours)::jsonb, days_off = \(daysOff),
                    visits_per_day = \(request.visitsPerDay), updated_at = \(clock.now()), updated_by = \(caller.subject)
                WHERE technician_id = \(id) RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            ).collect()
            try await outbox.record(
                TechnicianProfileChanged(
                    technicianId: id,
                    dealerId: current.dealerId,
                    skills: skills,
                    territory: territory,
                    visitsPerDay: request.visitsPerDay,
                    actorId: caller.subject
                ),
                aggregateID: "technician-\(id)",
                on: connection
            )
            guard let view = try updated.first.map(Self.view) else { throw ProblemDetails.notFound("No such technician.") }
            return view
        }
    }

    /// Skills must be service types of the catalog, the territory stores of the technician's dealer.
    private func check(_ request: ProfileRequest, dealerId: String, on connection: PostgresConnection) async throws {
        var problems: [FieldProblem] = []
        let known = try await connection.query("SELECT key FROM service_types WHERE key = ANY(\(request.skills))", logger: logger)
        let types = Set(try await known.collect().map { try $0.decode(String.self) })
        for (index, skill) in request.skills.enumerated() where !types.contains(skill) {
            problems.append(.init(field: "skills[\(index)]", message: "is not a service type of the catalog"))
        }
        let stores = try await connection.query(
            "SELECT store_id FROM stores WHERE store_id = ANY(\(request.territory)) AND dealer_id = \(dealerId)",
            logger: logger
        )
        let ours = Set(try await stores.collect().map { try $0.decode(String.self) })
        for (index, store) in request.territory.enumerated() where !ours.contains(store) {
            problems.append(.init(field: "territory[\(index)]", message: "is not a store of the technician's dealer"))
        }
        if !problems.isEmpty { throw ProblemDetails.validation(problems) }
    }

    /// The dealer's technicians as dispatch plans with them (active or not: a hand
    /// assignment may name anyone; the rules refuse who has left).
    /// Every offer timer reads its dealer's profiles, so each distinct week of hours (most
    /// technicians share a few) is decoded once per read.
    static func profiles(dealerId: String, on connection: PostgresConnection, logger: Logger) async throws -> [TechnicianProfile] {
        let rows = try await connection.query(
            """
            SELECT technician_id, home_store, active, skills, territory, hours::text, days_off, visits_per_day
            FROM technicians WHERE dealer_id = \(dealerId)
            """,
            logger: logger
        )
        var weeks: [String: WeeklyHours] = [:]
        var profiles: [TechnicianProfile] = []
        for try await (id, home, active, skills, territory, hours, daysOff, perDay) in rows.decode(
            (String, String?, Bool, [String], [String], String, [String], Int).self
        ) {
            let week = weeks[hours] ?? TechnicianHours.decode(hours)
            weeks[hours] = week
            profiles.append(
                TechnicianProfile(
                    id: id,
                    dealerId: dealerId,
                    homeStore: home,
                    skills: Set(skills),
                    territory: Set(territory),
                    hours: week,
                    daysOff: Set(daysOff),
                    visitsPerDay: perDay,
                    active: active
                )
            )
        }
        return profiles
    }

    static func view(_ row: PostgresRow) throws -> View {
        let (id, dealer, home, name, active, skills, territory, hours, daysOff, perDay) = try row.decode(
            (String, String, String?, String?, Bool, [String], [String], String, [String], Int).self
        )
        return View(
            technicianId: id,
            dealerId: dealer,
            homeStore: home,
            name: name,
            active: active,
            skills: skills,
            territory: territory,
            hours: TechnicianHours.entries(TechnicianHours.decode(hours)),
            daysOff: daysOff,
            visitsPerDay: perDay
        )
    }
}

/// `PUT /api/v1/technicians/{id}/profile`: the whole profile.
struct ProfileRequest: ValidatedRequest, Sendable {
    let skills: [String]
    let territory: [String]
    let hours: [TechnicianHours]
    let daysOff: [String]
    let visitsPerDay: Int

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if skills.count > 50 { problems.append(.init(field: "skills", message: "must name at most 50 service types")) }
        for (index, skill) in skills.enumerated() { problems += validateCode(skill, field: "skills[\(index)]") }
        if territory.count > 200 { problems.append(.init(field: "territory", message: "must name at most 200 stores")) }
        for (index, store) in territory.enumerated() { problems += validateCode(store, field: "territory[\(index)]") }
        problems += TechnicianHours.problems(hours, field: "hours")
        if daysOff.count > 366 { problems.append(.init(field: "daysOff", message: "must name at most 366 days")) }
        for (index, day) in daysOff.enumerated() where ISO8601.day(day) == nil {
            problems.append(.init(field: "daysOff[\(index)]", message: "must be a date, YYYY-MM-DD"))
        }
        if !(1...12).contains(visitsPerDay) { problems.append(.init(field: "visitsPerDay", message: "must be 1 to 12")) }
        return problems
    }
}
