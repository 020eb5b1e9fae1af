import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

extension Organisation {
    struct Departure: ResponseCodable, Sendable {
        let staffId: String
        let handedOverTo: String?
        let membersHandedOver: Int
    }

    /// A staff member leaves. A guide's members are handed over in the same transaction to
    /// another active guide of the store (the one named, or the least-loaded), with an event
    /// per member, so no member is ever without a guide. With nobody to hand over to, the
    /// departure is refused: add the new guide first.
    func leave(_ staffId: String, _ departure: StaffDeparture, by caller: Principal) async throws -> Departure {
        try await dependencies.transaction { connection in
            // One departure at a time per store, before any row is locked: two guides leaving
            // at once could otherwise each hand their members to the other.
            let store = try await connection.query("SELECT store_id FROM staff WHERE id = \(staffId)", logger: dependencies.logger)
            for try await storeId in store.decode(String?.self) {
                if let storeId { try await TransactionLock.hold(storeId, in: .storeDepartures, on: connection, logger: dependencies.logger) }
            }
            let rows = try await connection.query(
                "SELECT role, dealer_id, store_id, status FROM staff WHERE id = \(staffId) FOR UPDATE",
                logger: dependencies.logger
            )
            var found: (String, String, String?, String)?
            for try await row in rows.decode((String, String, String?, String).self) { found = row }
            guard let (role, dealerId, storeId, status) = found, mayManage(caller, dealerId: dealerId, storeId: storeId) else {
                throw ProblemDetails.notFound("No such staff member.")
            }
            guard status == "active" else { throw ProblemDetails.conflict("This staff member has already left.") }
            if departure.handoverTo != nil, role != StaffRole.guide.rawValue {
                throw ProblemDetails.validation(field: "handoverTo", "only a guide's departure hands members over")
            }
            var handedOverTo: String?
            var moved = 0
            if role == StaffRole.guide.rawValue, let storeId {
                let members = try await connection.query(
                    "SELECT id FROM members WHERE guide_id = \(staffId) ORDER BY id FOR UPDATE",
                    logger: dependencies.logger
                )
                var ids: [UUID] = []
                for try await id in members.decode(UUID.self) { ids.append(id) }
                if !ids.isEmpty {
                    let target = try await successor(of: staffId, in: storeId, named: departure.handoverTo, on: connection)
                    try await connection.query(
                        "UPDATE members SET guide_id = \(target), updated_at = \(dependencies.clock.now()) WHERE guide_id = \(staffId)",
                        logger: dependencies.logger
                    )
                    for id in ids {
                        try await dependencies.outbox.record(
                            MemberGuideReassigned(memberId: id.uuidString.lowercased(), fromGuideId: staffId, toGuideId: target, storeId: storeId),
                            aggregateID: "member-\(id.uuidString.lowercased())",
                            occurredAt: dependencies.clock.now(),
                            on: connection
                        )
                    }
                    handedOverTo = target
                    moved = ids.count
                }
            }
            try await connection.query(
                "UPDATE staff SET status = 'left', left_at = \(dependencies.clock.now()) WHERE id = \(staffId)",
                logger: dependencies.logger
            )
            try await dependencies.outbox.record(
                StaffLeft(staffId: staffId),
                aggregateID: "staff-\(staffId)",
                occurredAt: dependencies.clock.now(),
                on: connection
            )
            return Departure(staffId: staffId, handedOverTo: handedOverTo, membersHandedOver: moved)
        }
    }

    /// The guide who takes over: the named one if they are an active guide of the same store,
    /// else the active guide of the store with the fewest members.
    private func successor(of leaving: String, in storeId: String, named: String?, on connection: PostgresConnection) async throws -> String {
        if let named {
            guard named != leaving,
                try await exists(
                    "SELECT 1 FROM staff WHERE id = \(named) AND store_id = \(storeId) AND role = 'guide' AND status = 'active'",
                    on: connection
                )
            else { throw ProblemDetails.validation(field: "handoverTo", "must be another active guide of the same store") }
            return named
        }
        let rows = try await connection.query(
            """
            SELECT s.id FROM staff s
            WHERE s.store_id = \(storeId) AND s.role = 'guide' AND s.status = 'active' AND s.id <> \(leaving)
            ORDER BY (SELECT count(*) FROM members m WHERE m.guide_id = s.id), s.joined_at, s.id
            LIMIT 1
            """,
            logger: dependencies.logger
        )
        for try await id in rows.decode(String.self) { return id }
        throw ProblemDetails.conflict("No other active guide in this store can take over the members; add one, then try again.")
    }

    /// HQ, the dealer's admin, or the manager of the store the staff member works in.
    func mayManage(_ caller: Principal, dealerId: String, storeId: String?) -> Bool {
        switch caller.role {
        case .hqAdmin: true
        case .dealerAdmin: caller.dealerID == dealerId
        case .storeManager: storeId != nil && caller.storeID == storeId
        default: false
        }
    }
}

extension TransactionLock.Space {
    /// The departures of a store's staff.
    static let storeDepartures = Self(43)
}
