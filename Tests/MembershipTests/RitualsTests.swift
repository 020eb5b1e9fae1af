import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import MembershipService

@Suite("Daily rituals on durable timers: birthdays, expiry reminders, the clearing", .timeLimit(.minutes(3)))
struct RitualsTests {
    @Test("reminders go out once at 30, 7 and 3 days; the clearing keeps grace-period points; birthdays once each; a repeated day adds nothing")
    func yearEnd() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(
                    client,
                    phone: "13811112222",
                    code: try #require(codes["g1"]),
                    extra: #", "birthday": {"month": 12, "day": 20}"#
                )
                let id = member.id.uuidString.lowercased()
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                _ = try await fixture.purchase(client, member: member.id, order: "june", cents: 100_000, token: g1)

                // To 10 December: each day's timer fires in turn and schedules the next.
                try await advance(fixture, days: 178, untilSweep: "birthday-today-2026-12-10")
                _ = try await fixture.purchase(client, member: member.id, order: "december", cents: 20_000, token: g1)
                // Past the clearing at the start of 1 January 2027.
                try await advance(fixture, days: 23, untilSweep: "tier-review-2027-01-01")

                let clearing = LoyaltyRulesTests.day(2027, 1, 1)
                let reminders = try await fixture.payloads(PointsExpiring.self).filter { $0.memberId == id }
                #expect(reminders == [30, 7, 3].map { PointsExpiring(memberId: id, points: 1000, expiresAt: clearing, daysBefore: $0) })
                #expect(
                    try await fixture.payloads(PointsExpired.self) == [PointsExpired(memberId: id, points: 1000, balance: 200, clearedAt: clearing)]
                )
                #expect(try await fixture.payloads(BirthdayMonthStarted.self) == [BirthdayMonthStarted(memberId: id, year: 2026, month: 12, day: 1)])
                #expect(try await fixture.payloads(BirthdayToday.self) == [BirthdayToday(memberId: id, year: 2026, month: 12, day: 20)])
                let statement = try await fixture.call(client, .get, "/api/v1/members/\(member.id)/points", token: g1).decode(
                    PointsLedger.Statement.self
                )
                #expect(statement.balance == 200)
                #expect(statement.expiring.map(\.points) == [200])

                // The timer of 29 December fires again (a replica, a restore): its sweeps are done.
                let before = try await fixture.count("SELECT count(*) FROM outbox")
                try await fixture.dependencies.transaction { connection in
                    try await DailyRituals(dependencies: fixture.dependencies).schedule(
                        dayOf: LoyaltyRulesTests.day(2026, 12, 29, hour: 12),
                        continuation: 1,
                        on: connection
                    )
                }
                #expect(
                    try await eventually {
                        try await fixture.count("SELECT count(*) FROM scheduled_jobs WHERE unique_key LIKE 'membership-daily-2026-12-29%'") == 0
                    }
                )
                #expect(try await fixture.count("SELECT count(*) FROM outbox") == before)
            }
        }
    }

    @Test("a sweep larger than one batch resumes where it stopped and expires each member once")
    func batchedClearing() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.membersWithPurchases(client, count: 5, cents: { Int64(10_000 * ($0 + 1)) })
                var configured = DailyRituals(dependencies: fixture.dependencies)
                configured.batchSize = 2
                let rituals = configured
                let step = try rituals.clearingStep()
                var firings = 0
                var done = false
                while !done, firings < 10 {
                    done = try await fixture.dependencies.transaction { try await rituals.sweep(step, on: $0) }
                    firings += 1
                }
                #expect(firings == 3)
                let expired = try await fixture.payloads(PointsExpired.self)
                #expect(expired.count == 5)
                #expect(Set(expired.map(\.memberId)).count == 5)
                #expect(expired.map(\.points).sorted() == [100, 200, 300, 400, 500])
                #expect(expired.allSatisfy { $0.balance == 0 })
                #expect(try await fixture.count("SELECT count(*) FROM members WHERE points_balance <> 0") == 0)
                #expect(try await fixture.count("SELECT count(*) FROM points_ledger WHERE kind = 'expire'") == 5)
                #expect(try await fixture.count("SELECT sum(delta)::int FROM points_ledger") == 0)
                #expect(try await fixture.count("SELECT sum(expired)::int FROM points_lots") == 1_500)
                // The clearing reads what it took from `expired`; a lot cannot expire twice.
                await #expect(throws: PSQLError.self) {
                    try await fixture.database.query("UPDATE points_lots SET remaining = 1 WHERE expired > 0", logger: TestEnvironment.logger)
                }
                // Each member's events are numbered 1, 2, … without a gap or a repeat, and the
                // envelope says the same. The expiry is one event: `points.expired` carries
                // the balance, no `points.changed` goes with it.
                #expect(
                    try await fixture.count(
                        """
                        SELECT count(*) FROM (SELECT aggregate_id FROM outbox GROUP BY aggregate_id
                                              HAVING count(*) <> max(aggregate_sequence) OR count(DISTINCT aggregate_sequence) <> count(*)) AS gaps
                        """
                    ) == 0
                )
                #expect(
                    try await fixture.count("SELECT count(*) FROM outbox WHERE (envelope::jsonb ->> 'aggregateSequence')::int8 <> aggregate_sequence")
                        == 0
                )
                #expect(
                    try await fixture.count(
                        """
                        SELECT count(*) FROM outbox WHERE event_type = 'membership.points.changed' AND envelope::jsonb -> 'payload' ->> 'kind' = 'expire'
                        """
                    ) == 0
                )
                #expect(
                    try await fixture.count(
                        """
                        SELECT count(*) FROM outbox e JOIN points_ledger l ON e.aggregate_id = 'member-' || l.member_id
                        WHERE e.event_type = 'membership.points.expired' AND l.kind = 'expire'
                          AND (e.envelope::jsonb -> 'payload' ->> 'balance')::int8 = l.balance_after
                          AND (e.envelope::jsonb -> 'payload' ->> 'points')::int8 = -l.delta
                        """
                    ) == 5
                )
                // A firing after the sweep finished changes nothing.
                #expect(try await fixture.dependencies.transaction { try await rituals.sweep(step, on: $0) })
                #expect(try await fixture.payloads(PointsExpired.self).count == 5)
            }
        }
    }

    @Test("the clearing updates lots in place: no index mentions what it changes, so each update is HOT")
    func clearingUpdatesLotsInPlace() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.membersWithPurchases(client, count: 3)
                var configured = DailyRituals(dependencies: fixture.dependencies)
                configured.partitions = 1
                let rituals = configured
                let step = try rituals.clearingStep()
                let (updated, hot) = try await fixture.dependencies.transaction { connection in
                    _ = try await rituals.sweep(step, on: connection)
                    var counts: (Int64, Int64) = (-1, -1)
                    for try await row in try await connection.query(
                        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'points_lots'",
                        logger: TestEnvironment.logger
                    ).decode((Int64, Int64).self) { counts = row }
                    return counts
                }
                #expect(updated == 3)
                #expect(hot == updated, "a lot update that is not HOT adds an entry to every index of the table")
            }
        }
    }

    @Test(
        "a clearing swept in four id ranges side by side, batch after batch in one firing, expires each member once, each range on its own progress"
    )
    func partitionedClearing() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.membersWithPurchases(client, count: 12)
                var configured = DailyRituals(dependencies: fixture.dependencies)
                configured.batchSize = 2
                // Within its budget a firing takes each range from batch to batch to the end.
                configured.firingBudget = .seconds(60)
                let rituals = configured
                let step = try rituals.clearingStep()
                var firings = 0
                var done = false
                while !done, firings < 20 {
                    done = try await fixture.dependencies.transaction { try await rituals.sweep(step, partitions: 4, on: $0) }
                    firings += 1
                }
                #expect(done)
                #expect(firings == 1)
                let expired = try await fixture.payloads(PointsExpired.self)
                #expect(expired.count == 12)
                #expect(Set(expired.map(\.memberId)).count == 12)
                #expect(try await fixture.count("SELECT count(*) FROM points_ledger WHERE kind = 'expire'") == 12)
                #expect(try await fixture.count("SELECT count(*) FROM members WHERE points_balance <> 0") == 0)
                #expect(try await fixture.count("SELECT count(*) FROM sweeps WHERE name LIKE '\(step.name)-p_of4' AND finished_at IS NOT NULL") == 4)
                #expect(try await fixture.count("SELECT sum(processed)::int FROM sweeps WHERE name LIKE '\(step.name)-p_of4'") == 12)
                // Once done, a firing changes nothing.
                #expect(try await fixture.dependencies.transaction { try await rituals.sweep(step, partitions: 4, on: $0) })
                #expect(try await fixture.payloads(PointsExpired.self).count == 12)
            }
        }
    }

    @Test("a second firing of a sweep while the first is uncommitted waits for it and repeats nothing")
    func concurrentFirings() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                for index in 0..<4 {
                    _ = try await fixture.register(
                        client,
                        phone: "138111100\(30 + index)",
                        code: try #require(codes["g1"]),
                        extra: #", "birthday": {"month": 3, "day": 10}"#
                    )
                }
                var configured = DailyRituals(dependencies: fixture.dependencies)
                configured.batchSize = 2
                let rituals = configured
                let step = try #require(rituals.steps(for: LoyaltyRulesTests.day(2027, 3, 10)).first { $0.name.hasPrefix("birthday-today-") })
                let (swept, sweptSignal) = AsyncStream<Void>.makeStream()
                let (release, releaseSignal) = AsyncStream<Void>.makeStream()
                let rituals2 = rituals
                let first = Task {
                    try await fixture.dependencies.transaction { connection in
                        let done = try await rituals2.sweep(step, on: connection)
                        sweptSignal.yield()
                        for await _ in release { break }
                        return done
                    }
                }
                for await _ in swept { break }
                // The first batch is done but not committed; a second firing starts now.
                let second = Task { try await fixture.dependencies.transaction { try await rituals2.sweep(step, on: $0) } }
                try await Task.sleep(for: .milliseconds(500))
                releaseSignal.yield()
                _ = try await first.value
                _ = try await second.value
                while try await !fixture.dependencies.transaction({ try await rituals.sweep(step, on: $0) }) {}
                let greeted = try await fixture.payloads(BirthdayToday.self).map(\.memberId)
                #expect(greeted.count == 4)
                #expect(Set(greeted).count == 4)
            }
        }
    }

    @Test("id ranges cover every id exactly once, in order", arguments: [1, 2, 3, 4, 7, 8, 256, 300])
    func memberRanges(_ count: Int) {
        let ranges = MemberRange.partitions(count)
        #expect(ranges.count == min(count, 256))
        #expect(ranges.first?.after == MemberRange.all.after)
        #expect(ranges.last?.last == MemberRange.all.last)
        for (range, next) in zip(ranges, ranges.dropFirst()) { #expect(range.last == next.after) }
        let bytes = { (id: UUID) in withUnsafeBytes(of: id.uuid) { Array($0) } }
        for id in (0..<500).map({ _ in UUID() }) {
            let holders = ranges.filter {
                bytes($0.after).lexicographicallyPrecedes(bytes(id)) && !bytes($0.last).lexicographicallyPrecedes(bytes(id))
            }
            #expect(holders.count == 1)
        }
    }

    /// Moves business time a day at a time (so each day's timer sees its own day) and waits
    /// for the named sweep to finish.
    func advance(_ fixture: MembershipFixture, days: Int, untilSweep sweep: String) async throws {
        for _ in 0..<days {
            fixture.clock.advance(by: 86_400)
        }
        let finished = try await eventually(timeout: .seconds(90)) {
            try await fixture.sweepFinished(sweep)
        }
        if !finished { throw FixtureError(message: "sweep \(sweep) did not finish") }
    }
}
