import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

/// Dealers, their stores and staff. HQ manages dealers; a dealer admin manages their own
/// stores and staff. Staff joining and leaving are published, because the complaint ladder
/// and notifications climb through them.
struct Organisation: Sendable {
    let dependencies: MembershipDependencies

    struct Store: ResponseCodable, Sendable, Equatable {
        let id: String
        let dealerId: String
        let name: String
        let address: String
        let timeZone: String
        let businessHours: BusinessHours?
        let managerId: String?
        let dealerAdminIds: [String]
    }

    struct StaffMember: ResponseCodable, Sendable, Equatable {
        let id: String
        let dealerId: String
        let storeId: String?
        let role: StaffRole
        let name: String
        let phone: String
        /// The payload of the guide's QR code.
        let inviteCode: String?
        let status: String
    }

    func createDealer(_ request: NewDealer, by caller: Principal) async throws -> NewDealer {
        guard caller.role == .hqAdmin else { throw ProblemDetails.forbidden("Only HQ creates dealers.") }
        return try await dependencies.transaction { connection in
            let rows = try await connection.query(
                "INSERT INTO dealers (id, name) VALUES (\(request.id), \(request.name)) ON CONFLICT (id) DO NOTHING RETURNING 1",
                logger: dependencies.logger
            )
            var created = false
            for try await _ in rows { created = true }
            if !created { throw ProblemDetails.conflict("A dealer with id \(request.id) exists.") }
            return request
        }
    }

    func createStore(_ request: NewStore, by caller: Principal) async throws -> Store {
        try requireManages(dealer: request.dealerId, caller)
        return try await dependencies.transaction { connection in
            guard try await exists("SELECT 1 FROM dealers WHERE id = \(request.dealerId)", on: connection) else {
                throw ProblemDetails.validation(field: "dealerId", "is not a known dealer")
            }
            let hours = try request.businessHours.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            let rows = try await connection.query(
                """
                INSERT INTO stores (id, dealer_id, name, address, time_zone, business_hours)
                VALUES (\(request.id), \(request.dealerId), \(request.name), \(request.address ?? ""), \(request.timeZone), \(hours)::jsonb)
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """,
                logger: dependencies.logger
            )
            var created = false
            for try await _ in rows { created = true }
            if !created { throw ProblemDetails.conflict("A store with id \(request.id) exists.") }
            // Feedback needs the store's clock and hours to start complaints at the HQ desk
            // while the store is closed.
            try await dependencies.outbox.record(
                StoreOpened(
                    storeId: request.id,
                    dealerId: request.dealerId,
                    name: request.name,
                    timeZone: request.timeZone,
                    businessHours: request.businessHours
                ),
                aggregateID: "store-\(request.id)",
                occurredAt: dependencies.clock.now(),
                on: connection
            )
            return Store(
                id: request.id,
                dealerId: request.dealerId,
                name: request.name,
                address: request.address ?? "",
                timeZone: request.timeZone,
                businessHours: request.businessHours,
                managerId: nil,
                dealerAdminIds: []
            )
        }
    }

    func store(_ id: String, by caller: Principal) async throws -> Store {
        try await dependencies.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT s.id, s.dealer_id, s.name, s.address, s.time_zone, s.business_hours::text,
                       (SELECT id FROM staff WHERE store_id = s.id AND role = 'store_manager' AND status = 'active' ORDER BY joined_at DESC LIMIT 1),
                       ARRAY(SELECT id FROM staff WHERE dealer_id = s.dealer_id AND role = 'dealer_admin' AND status = 'active' ORDER BY id)
                FROM stores s WHERE s.id = \(id)
                """,
                logger: dependencies.logger
            )
            for try await (id, dealer, name, address, zone, hours, manager, admins) in rows.decode(
                (String, String, String, String, String, String?, String?, [String]).self
            ) {
                guard caller.role == .hqAdmin || caller.role == .service || caller.dealerID == dealer else { break }
                let businessHours = try hours.map { try JSONDecoder().decode(BusinessHours.self, from: Data($0.utf8)) }
                return Store(
                    id: id,
                    dealerId: dealer,
                    name: name,
                    address: address,
                    timeZone: zone,
                    businessHours: businessHours,
                    managerId: manager,
                    dealerAdminIds: admins
                )
            }
            throw ProblemDetails.notFound("No such store.")
        }
    }

    func addStaff(_ request: NewStaff, by caller: Principal) async throws -> StaffMember {
        try requireManages(dealer: request.dealerId, caller)
        guard let phone = Phone(request.phone) else { throw ProblemDetails.validation(field: "phone", "is not a valid phone number") }
        return try await dependencies.transaction { connection in
            if let storeId = request.storeId {
                guard try await exists("SELECT 1 FROM stores WHERE id = \(storeId) AND dealer_id = \(request.dealerId)", on: connection) else {
                    throw ProblemDetails.validation(field: "storeId", "is not a store of this dealer")
                }
            } else if request.role.needsStore {
                throw ProblemDetails.validation(field: "storeId", "is required for \(request.role.rawValue)")
            }
            guard try await exists("SELECT 1 FROM dealers WHERE id = \(request.dealerId)", on: connection) else {
                throw ProblemDetails.validation(field: "dealerId", "is not a known dealer")
            }
            let inviteCode = request.role == .guide ? InviteCode.generate() : nil
            // A dealer admin works for the whole dealer: no store, even if one was named.
            let storeId = request.role == .dealerAdmin ? nil : request.storeId
            let rows = try await connection.query(
                """
                INSERT INTO staff (id, dealer_id, store_id, role, name, phone, invite_code, joined_at)
                VALUES (\(request.id), \(request.dealerId), \(storeId), \(request.role.rawValue),
                        \(request.name), \(phone.e164), \(inviteCode), \(dependencies.clock.now()))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """,
                logger: dependencies.logger
            )
            var created = false
            for try await _ in rows { created = true }
            if !created { throw ProblemDetails.conflict("A staff member with id \(request.id) exists.") }
            try await dependencies.outbox.record(
                StaffJoined(
                    staffId: request.id,
                    role: request.role,
                    dealerId: request.dealerId,
                    storeId: storeId,
                    phone: phone.e164,
                    name: request.name
                ),
                aggregateID: "staff-\(request.id)",
                occurredAt: dependencies.clock.now(),
                on: connection
            )
            return StaffMember(
                id: request.id,
                dealerId: request.dealerId,
                storeId: storeId,
                role: request.role,
                name: request.name,
                phone: phone.e164,
                inviteCode: inviteCode,
                status: "active"
            )
        }
    }

    func staffMember(_ id: String, on connection: PostgresConnection) async throws -> StaffMember? {
        let rows = try await connection.query(
            "SELECT id, dealer_id, store_id, role, name, phone, invite_code, status FROM staff WHERE id = \(id)",
            logger: dependencies.logger
        )
        for try await (id, dealer, store, role, name, phone, code, status) in rows.decode(
            (String, String, String?, String, String, String, String?, String).self
        ) {
            return StaffMember(
                id: id,
                dealerId: dealer,
                storeId: store,
                role: StaffRole(rawValue: role) ?? .guide,
                name: name,
                phone: phone,
                inviteCode: code,
                status: status
            )
        }
        return nil
    }

    func staff(_ id: String, by caller: Principal) async throws -> StaffMember {
        try await dependencies.transaction { connection in
            guard let member = try await staffMember(id, on: connection), Self.covers(caller, member) else {
                throw ProblemDetails.notFound("No such staff member.")
            }
            return member
        }
    }

    static func covers(_ caller: Principal, _ staff: StaffMember) -> Bool {
        switch caller.role {
        case .hqAdmin, .service: true
        case .dealerAdmin: caller.dealerID == staff.dealerId
        case .storeManager: caller.storeID != nil && caller.storeID == staff.storeId
        case .guide: caller.subject == staff.id
        case .member, .technician: false
        }
    }

    func requireManages(dealer: String, _ caller: Principal) throws {
        switch caller.role {
        case .hqAdmin: return
        case .dealerAdmin where caller.dealerID == dealer: return
        default: throw ProblemDetails.forbidden("Only HQ or this dealer's admin manages its stores and staff.")
        }
    }

    func exists(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Bool {
        for try await _ in try await connection.query(query, logger: dependencies.logger) { return true }
        return false
    }
}

/// Personal invite codes: 8 characters without look-alikes (no 0/O, 1/I/L), so a code read
/// aloud or typed from a printed QR label is unambiguous.
enum InviteCode {
    static let alphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    static func normalise(_ raw: String) -> String {
        raw.uppercased().filter { !$0.isWhitespace && $0 != "-" }
    }
}
