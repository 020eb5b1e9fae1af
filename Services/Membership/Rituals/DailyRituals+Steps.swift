import AftercareContracts
import AftercareMessaging
import Foundation
import PostgresNIO

extension DailyRituals {
    func birthdayMonth(year: Int, month: Int, range: MemberRange, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        let ids = try await memberIDs(
            "SELECT id FROM members WHERE birthday_month = \(Int16(month)) AND id > \(range.after) AND id <= \(range.last) ORDER BY id LIMIT \(limit)",
            on: connection
        )
        try await publish(
            ids.map { BirthdayMonthStarted(memberId: $0.uuidString.lowercased(), year: year, month: month, day: 1) },
            for: ids,
            on: connection
        )
        return ids.last.map { ($0, ids.count) }
    }

    func birthdayToday(_ day: Date, year: Int, range: MemberRange, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        let birthdays = BirthdayCalendar.birthdays(on: day, calendar: dependencies.calendar.calendar)
        let days = birthdays.map { Int16($0.day) }
        guard let month = birthdays.first?.month else { return nil }
        let today = dependencies.calendar.calendar.component(.day, from: day)
        let ids = try await memberIDs(
            """
            SELECT id FROM members WHERE birthday_month = \(Int16(month)) AND birthday_day = ANY(\(days)) AND id > \(range.after) AND id <= \(range.last)
            ORDER BY id LIMIT \(limit)
            """,
            on: connection
        )
        try await publish(
            ids.map { BirthdayToday(memberId: $0.uuidString.lowercased(), year: year, month: month, day: today) },
            for: ids,
            on: connection
        )
        return ids.last.map { ($0, ids.count) }
    }

    func remindExpiring(
        clearing: Date,
        daysBefore: Int,
        range: MemberRange,
        limit: Int,
        on connection: PostgresConnection
    ) async throws -> (UUID, Int)? {
        var due: [(UUID, Int64)] = []
        for try await row in try await connection.query(
            """
            SELECT member_id, sum(remaining)::int8 FROM points_lots WHERE expires_at = \(clearing) AND remaining > 0 AND member_id > \(range.after) AND member_id <= \(range.last)
            GROUP BY member_id ORDER BY member_id LIMIT \(limit)
            """,
            logger: dependencies.logger
        ).decode((UUID, Int64).self) { due.append(row) }
        try await publish(
            due.map { PointsExpiring(memberId: $0.0.uuidString.lowercased(), points: $0.1, expiresAt: clearing, daysBefore: daysBefore) },
            for: due.map(\.0),
            on: connection
        )
        return due.last.map { ($0.0, due.count) }
    }

    /// Expires every lot due at or before this clearing, set-based for the whole batch: the
    /// lots, the balances, one ledger entry and one `membership.points.expired` per member.
    /// That event is the expiry's balance movement (points taken, balance after), so no
    /// `points.changed` goes with it: one event per ledger entry, as everywhere else.
    func clear(at clearing: Date, range: MemberRange, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        let ids = try await memberIDs(
            """
            SELECT DISTINCT member_id FROM points_lots WHERE expires_at <= \(clearing) AND remaining > 0 AND member_id > \(range.after) AND member_id <= \(range.last)
            ORDER BY member_id LIMIT \(limit)
            """,
            on: connection
        )
        guard let last = ids.last else { return nil }
        // Members first, in id order (as every other writer locks them), then their lots.
        try await connection.query("SELECT id FROM members WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE", logger: dependencies.logger)
        // The lots are updated in place, not locked and then joined back: no other writer
        // touches a member's lots without that member's lock, which this batch holds. A lot
        // with points left has expired none yet (a check constraint), so what it expired
        // afterwards is exactly what this clearing took.
        var members: [UUID] = []
        var amounts: [Int64] = []
        for try await (member, amount) in try await connection.query(
            """
            WITH cleared AS (
                UPDATE points_lots SET expired = expired + remaining, remaining = 0
                WHERE member_id = ANY(\(ids)) AND expires_at <= \(clearing) AND remaining > 0
                RETURNING member_id, expired
            )
            SELECT member_id, sum(expired)::int8 FROM cleared GROUP BY member_id ORDER BY member_id
            """,
            logger: dependencies.logger
        ).decode((UUID, Int64).self) {
            members.append(member)
            amounts.append(amount)
        }
        var balances: [UUID: Int64] = [:]
        for try await (member, balance) in try await connection.query(
            """
            UPDATE members m SET points_balance = m.points_balance - x.amount
            FROM unnest(\(members)::uuid[], \(amounts)::int8[]) AS x(id, amount) WHERE m.id = x.id
            RETURNING m.id, m.points_balance
            """,
            logger: dependencies.logger
        ).decode((UUID, Int64).self) { balances[member] = balance }
        let reference = "clearing:\(dependencies.calendar.label(clearing))"
        let after = members.map { balances[$0] ?? 0 }
        try await connection.query(
            """
            INSERT INTO points_ledger (member_id, kind, delta, balance_after, reference, at)
            SELECT x.id, 'expire', -x.amount, x.balance, \(reference), \(dependencies.clock.now())
            FROM unnest(\(members)::uuid[], \(amounts)::int8[], \(after)::int8[]) AS x(id, amount, balance)
            """,
            logger: dependencies.logger
        )
        let expired = zip(members, zip(amounts, after)).map { member, values in
            PointsExpired(memberId: member.uuidString.lowercased(), points: values.0, balance: values.1, clearedAt: clearing)
        }
        try await publish(expired, for: members, on: connection)
        return (last, ids.count)
    }

    /// The yearly review: members whose rolling 12-month spend no longer reaches their tier
    /// move down to the tier it does reach.
    func reviewTiers(range: MemberRange, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        let rules = try await TierBook(dependencies: dependencies).rules(on: connection)
        let since = dependencies.clock.now().addingTimeInterval(-365 * 86_400)
        var rows: [(UUID, String, Int64)] = []
        for try await row in try await connection.query(
            """
            SELECT m.id, m.tier, COALESCE((SELECT sum(p.amount_cents) FROM purchases p
                                           WHERE p.member_id = m.id AND p.refunded_at IS NULL AND p.purchased_at > \(since)), 0)::int8
            FROM members m WHERE m.tier <> \(rules.entryTier.name) AND m.id > \(range.after) AND m.id <= \(range.last)
            ORDER BY m.id LIMIT \(limit)
            """,
            logger: dependencies.logger
        ).decode((UUID, String, Int64).self) { rows.append(row) }
        let purchases = Purchases(dependencies: dependencies)
        for (member, tier, spend) in rows {
            if let lower = rules.downgrade(from: tier, spendCents: spend) {
                try await purchases.changeTier(member, from: tier, to: lower.name, reason: "yearly_review", spend: spend, on: connection)
            }
        }
        return rows.last.map { ($0.0, rows.count) }
    }

    /// One event per member, recorded together.
    func publish(_ payloads: [some EventPayload], for members: [UUID], on connection: PostgresConnection) async throws {
        let entries = zip(payloads, members).map { Outbox.Entry($0, aggregateID: "member-\($1.uuidString.lowercased())") }
        try await dependencies.outbox.record(batch: entries, occurredAt: dependencies.clock.now(), on: connection)
    }

    func memberIDs(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [UUID] {
        var ids: [UUID] = []
        for try await id in try await connection.query(query, logger: dependencies.logger).decode(UUID.self) { ids.append(id) }
        return ids
    }
}
