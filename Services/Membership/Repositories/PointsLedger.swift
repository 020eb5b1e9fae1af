import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

/// The append-only points ledger and the earned lots behind it. Every movement updates the
/// member's balance (never below zero, enforced by the database too), appends a ledger
/// entry and publishes `membership.points.changed`, in the caller's transaction. Callers
/// lock the member row first, so movements of one member are serialised.
struct PointsLedger: Sendable {
    let dependencies: MembershipDependencies

    @discardableResult
    func apply(
        _ member: UUID,
        _ kind: PointsEntryKind,
        delta: Int64,
        reference: String?,
        idempotencyKey: String? = nil,
        on connection: PostgresConnection
    ) async throws -> Int64 {
        var balance: Int64 = 0
        for try await value in try await connection.query(
            "UPDATE members SET points_balance = points_balance + \(delta) WHERE id = \(member) RETURNING points_balance",
            logger: dependencies.logger
        ).decode(Int64.self) { balance = value }
        let now = dependencies.clock.now()
        try await connection.query(
            """
            INSERT INTO points_ledger (member_id, kind, delta, balance_after, reference, idempotency_key, at)
            VALUES (\(member), \(kind.rawValue), \(delta), \(balance), \(reference), \(idempotencyKey), \(now))
            """,
            logger: dependencies.logger
        )
        try await dependencies.outbox.record(
            PointsChanged(memberId: member.uuidString.lowercased(), kind: kind, delta: delta, balance: balance, reference: reference),
            aggregateID: "member-\(member.uuidString.lowercased())",
            occurredAt: now,
            on: connection
        )
        return balance
    }

    /// Earns a lot that expires at the clearing the calendar gives for `earnedAt`; returns
    /// the lot's id (nil when there was nothing to earn).
    func earn(_ member: UUID, points: Int64, source: String, earnedAt: Date, on connection: PostgresConnection) async throws -> Int64? {
        guard points > 0 else { return nil }
        var lot: Int64?
        for try await id in try await connection.query(
            """
            INSERT INTO points_lots (member_id, source, points, remaining, earned_at, expires_at)
            VALUES (\(member), \(source), \(points), \(points), \(earnedAt), \(dependencies.calendar.expiry(ofPointsEarnedAt: earnedAt)))
            RETURNING id
            """,
            logger: dependencies.logger
        ).decode(Int64.self) { lot = id }
        try await apply(member, .earn, delta: points, reference: source, on: connection)
        return lot
    }

    /// Takes up to `points` from the member's lots, earliest-expiring first (and within a
    /// lot, `preferring` one first). Returns what was taken.
    func draw(_ member: UUID, points: Int64, preferring source: String? = nil, on connection: PostgresConnection) async throws -> Int64 {
        var left = points
        let rows = try await connection.query(
            """
            SELECT id, remaining FROM points_lots WHERE member_id = \(member) AND remaining > 0
            ORDER BY (source = \(source ?? "")) DESC, expires_at, id FOR UPDATE
            """,
            logger: dependencies.logger
        )
        var takes: [(Int64, Int64)] = []
        for try await (id, remaining) in rows.decode((Int64, Int64).self) where left > 0 {
            let take = min(left, remaining)
            takes.append((id, take))
            left -= take
        }
        for (id, take) in takes {
            try await connection.query("UPDATE points_lots SET remaining = remaining - \(take) WHERE id = \(id)", logger: dependencies.logger)
        }
        return points - left
    }

    struct Redemption: ResponseCodable, Sendable {
        let memberId: UUID
        let points: Int64
        let balance: Int64
        let reference: String?
    }

    /// Spends points (coupons, gifts). A retried request with the same `Idempotency-Key`
    /// returns the first result and spends nothing more.
    func redeem(_ member: UUID, points: Int64, reference: String?, idempotencyKey: String, by caller: Principal) async throws -> Redemption {
        guard points > 0 else { throw ProblemDetails.validation(field: "points", "must be positive") }
        return try await dependencies.transaction { connection in
            let row = try await MemberBook(dependencies: dependencies).visible(member, to: caller, lock: true, on: connection)
            for try await (delta, balance, reference) in try await connection.query(
                "SELECT delta, balance_after, reference FROM points_ledger WHERE member_id = \(member) AND idempotency_key = \(idempotencyKey)",
                logger: dependencies.logger
            ).decode((Int64, Int64, String?).self) {
                return Redemption(memberId: member, points: -delta, balance: balance, reference: reference)
            }
            guard row.view.pointsBalance >= points else {
                throw ProblemDetails.validation(field: "points", "exceeds the balance of \(row.view.pointsBalance)")
            }
            let drawn = try await draw(member, points: points, on: connection)
            let balance = try await apply(member, .redeem, delta: -drawn, reference: reference, idempotencyKey: idempotencyKey, on: connection)
            return Redemption(memberId: member, points: drawn, balance: balance, reference: reference)
        }
    }

    /// Staff add or take points with a reason. Added points are a lot of their own that
    /// expires like points earned today; taken points come from the earliest-expiring lots
    /// and never below zero. A retried request with the same `Idempotency-Key` changes nothing.
    func adjust(_ member: UUID, _ request: AdjustRequest, idempotencyKey: String, by caller: Principal) async throws -> Redemption {
        guard [.storeManager, .dealerAdmin, .hqAdmin].contains(caller.role) else {
            throw ProblemDetails.forbidden("Only store managers, dealer admins and HQ adjust points.")
        }
        return try await dependencies.transaction { connection in
            let row = try await MemberBook(dependencies: dependencies).visible(member, to: caller, lock: true, on: connection)
            for try await (delta, balance) in try await connection.query(
                "SELECT delta, balance_after FROM points_ledger WHERE member_id = \(member) AND idempotency_key = \(idempotencyKey)",
                logger: dependencies.logger
            ).decode((Int64, Int64).self) {
                return Redemption(memberId: member, points: delta, balance: balance, reference: request.reason)
            }
            let reference = "adjust: \(request.reason)"
            var delta = request.points
            if delta > 0 {
                let now = dependencies.clock.now()
                try await connection.query(
                    """
                    INSERT INTO points_lots (member_id, source, points, remaining, earned_at, expires_at)
                    VALUES (\(member), \("adjust:\(idempotencyKey)"), \(delta), \(delta), \(now),
                            \(dependencies.calendar.expiry(ofPointsEarnedAt: now)))
                    """,
                    logger: dependencies.logger
                )
            } else {
                guard row.view.pointsBalance >= -delta else {
                    throw ProblemDetails.validation(field: "points", "would take the balance of \(row.view.pointsBalance) below zero")
                }
                delta = -(try await draw(member, points: -delta, on: connection))
            }
            let balance = try await apply(
                member,
                .adjust,
                delta: delta,
                reference: String(reference.prefix(200)),
                idempotencyKey: idempotencyKey,
                on: connection
            )
            return Redemption(memberId: member, points: delta, balance: balance, reference: request.reason)
        }
    }

    struct Entry: ResponseCodable, Sendable {
        let id: Int64
        let kind: String
        let delta: Int64
        let balanceAfter: Int64
        let reference: String?
        let at: Date
    }

    struct Expiring: ResponseCodable, Sendable {
        let expiresAt: Date
        let points: Int64
    }

    struct Statement: ResponseCodable, Sendable {
        let memberId: UUID
        let balance: Int64
        /// Unspent points by the clearing they expire at, soonest first.
        let expiring: [Expiring]
        /// Newest first; pass `nextBefore` as `before` for older entries.
        let history: [Entry]
        let nextBefore: Int64?
    }

    func statement(_ member: UUID, before: Int64?, limit: Int, by caller: Principal) async throws -> Statement {
        guard (1...200).contains(limit) else { throw ProblemDetails.validation(field: "limit", "must be 1 to 200") }
        return try await dependencies.transaction { connection in
            let row = try await MemberBook(dependencies: dependencies).visible(member, to: caller, on: connection)
            var expiring: [Expiring] = []
            for try await (at, points) in try await connection.query(
                "SELECT expires_at, sum(remaining)::int8 FROM points_lots WHERE member_id = \(member) AND remaining > 0 GROUP BY expires_at ORDER BY expires_at",
                logger: dependencies.logger
            ).decode((Date, Int64).self) { expiring.append(Expiring(expiresAt: at, points: points)) }
            var history: [Entry] = []
            for try await (id, kind, delta, balance, reference, at) in try await connection.query(
                """
                SELECT id, kind, delta, balance_after, reference, at FROM points_ledger
                WHERE member_id = \(member) AND id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit + 1)
                """,
                logger: dependencies.logger
            ).decode((Int64, String, Int64, Int64, String?, Date).self) {
                history.append(Entry(id: id, kind: kind, delta: delta, balanceAfter: balance, reference: reference, at: at))
            }
            let more = history.count > limit
            let page = Array(history.prefix(limit))
            return Statement(
                memberId: member,
                balance: row.view.pointsBalance,
                expiring: expiring,
                history: page,
                nextBefore: more ? page.last?.id : nil
            )
        }
    }
}
