import AftercareContracts
import Foundation
import PostgresNIO

extension DailyRituals {
    func birthdayMonth(year: Int, month: Int, after: UUID?, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        try await eachMember(
            "SELECT id FROM members WHERE birthday_month = \(Int16(month)) AND id > \(after ?? Self.nilMember) ORDER BY id LIMIT \(limit)", on: connection
        ) { id in
            try await publish(BirthdayMonthStarted(memberId: id.uuidString.lowercased(), year: year, month: month, day: 1), for: id, on: connection)
        }
    }

    func birthdayToday(_ day: Date, year: Int, after: UUID?, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        let birthdays = BirthdayCalendar.birthdays(on: day, calendar: context.calendar.calendar)
        let days = birthdays.map { Int16($0.day) }
        guard let month = birthdays.first?.month else { return nil }
        let today = context.calendar.calendar.component(.day, from: day)
        return try await eachMember(
            """
            SELECT id FROM members WHERE birthday_month = \(Int16(month)) AND birthday_day = ANY(\(days)) AND id > \(after ?? Self.nilMember)
            ORDER BY id LIMIT \(limit)
            """,
            on: connection
        ) { id in
            try await publish(BirthdayToday(memberId: id.uuidString.lowercased(), year: year, month: month, day: today), for: id, on: connection)
        }
    }

    func remindExpiring(clearing: Date, daysBefore: Int, after: UUID?, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        var due: [(UUID, Int64)] = []
        for try await row in try await connection.query(
            """
            SELECT member_id, sum(remaining)::int8 FROM points_lots WHERE expires_at = \(clearing) AND remaining > 0 AND member_id > \(after ?? Self.nilMember)
            GROUP BY member_id ORDER BY member_id LIMIT \(limit)
            """,
            logger: context.logger
        ).decode((UUID, Int64).self) { due.append(row) }
        for (member, points) in due {
            try await publish(PointsExpiring(memberId: member.uuidString.lowercased(), points: points, expiresAt: clearing, daysBefore: daysBefore), for: member, on: connection)
        }
        return due.last.map { ($0.0, due.count) }
    }

    /// Expires every lot due at or before this clearing: one ledger entry and one event per member.
    func clear(at clearing: Date, after: UUID?, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        let ledger = PointsLedger(context: context)
        return try await eachMember(
            """
            SELECT DISTINCT member_id FROM points_lots WHERE expires_at <= \(clearing) AND remaining > 0 AND member_id > \(after ?? Self.nilMember)
            ORDER BY member_id LIMIT \(limit)
            """,
            on: connection
        ) { member in
            try await connection.query("SELECT 1 FROM members WHERE id = \(member) FOR UPDATE", logger: context.logger)
            var expired: Int64 = 0
            for try await value in try await connection.query(
                """
                WITH cleared AS (
                    UPDATE points_lots SET expired = expired + remaining, remaining = 0
                    WHERE member_id = \(member) AND expires_at <= \(clearing) AND remaining > 0
                    RETURNING expired
                )
                SELECT COALESCE(sum(expired), 0)::int8 FROM cleared
                """,
                logger: context.logger
            ).decode(Int64.self) { expired = value }
            guard expired > 0 else { return }
            let balance = try await ledger.apply(member, .expire, delta: -expired, reference: "clearing:\(context.calendar.label(clearing))", on: connection)
            try await publish(PointsExpired(memberId: member.uuidString.lowercased(), points: expired, balance: balance, clearedAt: clearing), for: member, on: connection)
        }
    }

    /// The yearly review: members whose rolling 12-month spend no longer reaches their tier
    /// move down to the tier it does reach.
    func reviewTiers(after: UUID?, limit: Int, on connection: PostgresConnection) async throws -> (UUID, Int)? {
        let rules = try await context.tierRules(on: connection)
        let since = context.clock.now().addingTimeInterval(-365 * 86_400)
        var rows: [(UUID, String, Int64)] = []
        for try await row in try await connection.query(
            """
            SELECT m.id, m.tier, COALESCE((SELECT sum(p.amount_cents) FROM purchases p
                                           WHERE p.member_id = m.id AND p.refunded_at IS NULL AND p.purchased_at > \(since)), 0)::int8
            FROM members m WHERE m.tier <> \(rules.entryTier.name) AND m.id > \(after ?? Self.nilMember)
            ORDER BY m.id LIMIT \(limit)
            """,
            logger: context.logger
        ).decode((UUID, String, Int64).self) { rows.append(row) }
        let purchases = Purchases(context: context)
        for (member, tier, spend) in rows {
            if let lower = rules.downgrade(from: tier, spendCents: spend) {
                try await purchases.changeTier(member, from: tier, to: lower.name, reason: "yearly_review", spend: spend, on: connection)
            }
        }
        return rows.last.map { ($0.0, rows.count) }
    }

    func publish<P: EventPayload>(_ payload: P, for member: UUID, on connection: PostgresConnection) async throws {
        try await context.outbox.record(payload, aggregateID: "member-\(member.uuidString.lowercased())", occurredAt: context.clock.now(), on: connection)
    }
}
