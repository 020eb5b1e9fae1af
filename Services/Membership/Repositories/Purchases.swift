import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import PostgresNIO

/// Purchases earn points at the member's tier multiplier and can lift the member's tier at
/// once; a refund takes the points back. Idempotent on the store's order id.
struct Purchases: Sendable {
    let dependencies: MembershipDependencies
    var ledger: PointsLedger { PointsLedger(dependencies: dependencies) }

    struct Recorded: Sendable {
        let purchase: PurchaseView
        let created: Bool
    }

    func record(_ member: UUID, _ request: PurchaseRequest, by caller: Principal) async throws -> Recorded {
        let now = dependencies.clock.now()
        let purchasedAt = request.purchasedAt ?? now
        if purchasedAt > now.addingTimeInterval(300) { throw ProblemDetails.validation(field: "purchasedAt", "must not be in the future") }
        return try await dependencies.transaction { connection in
            // A till that sends an order again while the first is on its way waits here and
            // then finds it, instead of failing on the order id.
            let existing = try await TransactionLock.answered(request.orderId, in: .purchaseOrder, on: connection, logger: dependencies.logger) {
                try await purchase(request.orderId, on: connection)
            }
            if let existing {
                guard existing.memberId == member else { throw ProblemDetails.conflict("Order \(request.orderId) was recorded for another member.") }
                return Recorded(purchase: existing, created: false)
            }
            guard
                let row = try await MemberBook(dependencies: dependencies)
                    .member(where: "m.id = $1::uuid", member.uuidString, lock: true, on: connection),
                Self.maySell(caller, to: row.placement)
            else { throw ProblemDetails.notFound("No such member.") }
            let storeId: String
            switch caller.role {
            case .guide, .storeManager: storeId = caller.storeID ?? row.placement.storeId
            default: storeId = request.storeId ?? row.placement.storeId
            }
            let rules = try await TierBook(dependencies: dependencies).rules(on: connection)
            // Points at the tier the member had when buying; the upgrade applies from the next purchase.
            let points = rules.points(forCents: request.amountCents, tier: row.view.tier)
            let items = String(decoding: try JSONEncoder().encode(request.items), as: UTF8.self)
            let guideId = caller.role == .guide ? caller.subject : row.placement.guideId
            try await connection.query(
                """
                INSERT INTO purchases (order_id, member_id, store_id, guide_id, amount_cents, items, purchased_at, points_earned, recorded_at)
                VALUES (\(request.orderId), \(member), \(storeId), \(guideId), \(request.amountCents), \(items)::jsonb, \(purchasedAt), \(points), \(now))
                """,
                logger: dependencies.logger
            )
            let memberId = member.uuidString.lowercased()
            try await dependencies.outbox.record(
                PurchaseRecorded(
                    orderId: request.orderId,
                    memberId: memberId,
                    storeId: storeId,
                    dealerId: row.placement.dealerId,
                    guideId: guideId,
                    amountCents: request.amountCents,
                    items: request.items,
                    purchasedAt: purchasedAt,
                    pointsEarned: points
                ),
                aggregateID: "member-\(memberId)",
                occurredAt: now,
                on: connection
            )
            if let lot = try await ledger.earn(member, points: points, source: Self.source(request.orderId), earnedAt: purchasedAt, on: connection) {
                try await connection.query(
                    "UPDATE purchases SET points_lot_id = \(lot) WHERE order_id = \(request.orderId)",
                    logger: dependencies.logger
                )
            }
            let spend = try await qualifyingSpend(member, on: connection)
            if let upgrade = rules.upgrade(from: row.view.tier, spendCents: spend) {
                try await changeTier(member, from: row.view.tier, to: upgrade.name, reason: "purchase_qualified", spend: spend, on: connection)
            }
            guard let recorded = try await purchase(request.orderId, on: connection) else { throw ProblemDetails(status: .internalServerError) }
            return Recorded(purchase: recorded, created: true)
        }
    }

    /// Refunds a whole order: the points it earned are reversed, from its own lot first, then
    /// from the earliest-expiring others, never below a zero balance (what had been spent
    /// and cannot be recovered is reported). Points a clearing already took are not reversed
    /// again. The tier is only reconsidered at the yearly review.
    func refund(_ orderId: String, by caller: Principal) async throws -> PurchaseView {
        try await dependencies.transaction { connection in
            guard let purchase = try await purchase(orderId, lock: true, on: connection),
                let row = try await MemberBook(dependencies: dependencies).member(
                    where: "m.id = $1::uuid",
                    purchase.memberId.uuidString,
                    lock: true,
                    on: connection
                ),
                Self.maySell(caller, to: row.placement)
            else { throw ProblemDetails.notFound("No such purchase.") }
            if purchase.refundedAt != nil { return purchase }
            let expired = try await Self.expiredPoints(ofOrder: orderId, on: connection, logger: dependencies.logger)
            let owed = max(0, purchase.pointsEarned - expired)
            let taken = try await ledger.draw(
                purchase.memberId,
                points: min(owed, row.view.pointsBalance),
                preferring: Self.source(orderId),
                on: connection
            )
            if taken > 0 {
                try await ledger.apply(purchase.memberId, .reverse, delta: -taken, reference: Self.source(orderId), on: connection)
            }
            let now = dependencies.clock.now()
            try await connection.query("UPDATE purchases SET refunded_at = \(now) WHERE order_id = \(orderId)", logger: dependencies.logger)
            let memberId = purchase.memberId.uuidString.lowercased()
            try await dependencies.outbox.record(
                PurchaseRefunded(
                    orderId: orderId,
                    memberId: memberId,
                    amountCents: purchase.amountCents,
                    pointsReversed: taken,
                    pointsUnrecovered: owed - taken
                ),
                aggregateID: "member-\(memberId)",
                occurredAt: now,
                on: connection
            )
            return try await self.purchase(orderId, on: connection) ?? purchase
        }
    }

    func purchases(of member: UUID, by caller: Principal) async throws -> [PurchaseView] {
        try await dependencies.transaction { connection in
            _ = try await MemberBook(dependencies: dependencies).visible(member, to: caller, on: connection)
            var result: [PurchaseView] = []
            for try await row in try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM purchases WHERE member_id = \(member) ORDER BY purchased_at DESC LIMIT 200",
                logger: dependencies.logger
            ) { result.append(try Self.decode(row)) }
            return result
        }
    }

    /// Non-refunded spend over the last 12 months (365 days) of business time.
    func qualifyingSpend(_ member: UUID, on connection: PostgresConnection) async throws -> Int64 {
        let since = dependencies.clock.now().addingTimeInterval(-365 * 86_400)
        for try await value in try await connection.query(
            "SELECT COALESCE(sum(amount_cents), 0)::int8 FROM purchases WHERE member_id = \(member) AND refunded_at IS NULL AND purchased_at > \(since)",
            logger: dependencies.logger
        ).decode(Int64.self) { return value }
        return 0
    }

    func changeTier(_ member: UUID, from: String, to: String, reason: String, spend: Int64, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE members SET tier = \(to), updated_at = \(dependencies.clock.now()) WHERE id = \(member)",
            logger: dependencies.logger
        )
        let memberId = member.uuidString.lowercased()
        try await dependencies.outbox.record(
            TierChanged(memberId: memberId, fromTier: from, toTier: to, reason: reason, qualifyingSpendCents: spend),
            aggregateID: "member-\(memberId)",
            occurredAt: dependencies.clock.now(),
            on: connection
        )
    }

    /// Store staff record sales for any member of their store (not only a guide's own);
    /// dealer admins within the dealer; HQ and platform services anywhere.
    static func maySell(_ caller: Principal, to member: MemberPlacement) -> Bool {
        switch caller.role {
        case .hqAdmin, .service: true
        case .dealerAdmin: caller.dealerID == member.dealerId
        case .storeManager, .guide: caller.storeID == member.storeId
        case .member, .technician: false
        }
    }

    static func source(_ orderId: String) -> String { "purchase:\(orderId)" }

    /// What clearings took from the lot an order earned, read through the lot's key.
    static func expiredPoints(ofOrder orderId: String, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var expired: Int64 = 0
        for try await value in try await connection.query(
            """
            SELECT COALESCE(sum(l.expired), 0)::int8 FROM purchases p JOIN points_lots l ON l.id = p.points_lot_id
            WHERE p.order_id = \(orderId)
            """,
            logger: logger
        ).decode(Int64.self) { expired = value }
        return expired
    }

    static let columns = "order_id, member_id, store_id, amount_cents, items::text AS items, purchased_at, points_earned, refunded_at"

    func purchase(_ orderId: String, lock: Bool = false, on connection: PostgresConnection) async throws -> PurchaseView? {
        let query: PostgresQuery =
            lock
            ? "SELECT \(unescaped: Self.columns) FROM purchases WHERE order_id = \(orderId) FOR UPDATE"
            : "SELECT \(unescaped: Self.columns) FROM purchases WHERE order_id = \(orderId)"
        for try await row in try await connection.query(query, logger: dependencies.logger) { return try Self.decode(row) }
        return nil
    }

    static func decode(_ row: PostgresRow) throws -> PurchaseView {
        let (orderId, memberId, storeId, amount, items, purchasedAt, points, refundedAt) = try row.decode(
            (String, UUID, String, Int64, String, Date, Int64, Date?).self
        )
        return PurchaseView(
            orderId: orderId,
            memberId: memberId,
            storeId: storeId,
            amountCents: amount,
            items: try JSONDecoder().decode([PurchaseItem].self, from: Data(items.utf8)),
            purchasedAt: purchasedAt,
            pointsEarned: points,
            refundedAt: refundedAt
        )
    }
}

extension TransactionLock.Space {
    /// A purchase's order id.
    static let purchaseOrder = Self(41)
}
