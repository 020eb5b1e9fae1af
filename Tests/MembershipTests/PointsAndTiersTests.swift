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

@Suite("Purchases, points and tiers on a real PostgreSQL", .timeLimit(.minutes(3)))
struct PointsAndTiersTests {
    @Test("a purchase earns points once per order id; a refund reverses exactly what it earned")
    func purchaseAndRefund() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "13811112222", code: try #require(codes["g1"]))
                let g2 = try await fixture.guide("g2", store: fixture.store1)
                let first = try await fixture.purchase(client, member: member.id, order: "o-1", cents: 123_456, token: g2)
                #expect(first.status == .created)
                #expect(try first.decode(PurchaseView.self).pointsEarned == 1234)
                let again = try await fixture.purchase(client, member: member.id, order: "o-1", cents: 123_456, token: g2)
                #expect(again.status == .ok)
                #expect(try await fixture.count("SELECT count(*) FROM purchases") == 1)
                #expect(try await fixture.published(PurchaseRecorded.eventType) == 1)
                _ = try await fixture.purchase(client, member: member.id, order: "o-2", cents: 10_000, token: g2)
                #expect(try await balance(fixture, client, member.id) == 1334)

                let refund = try await fixture.call(client, .post, "/api/v1/purchases/o-1/refund", token: g2)
                #expect(refund.status == .ok)
                #expect(try await balance(fixture, client, member.id) == 100)
                _ = try await fixture.call(client, .post, "/api/v1/purchases/o-1/refund", token: g2)
                #expect(try await balance(fixture, client, member.id) == 100, "a second refund reverses nothing more")
                #expect(
                    try await fixture.payloads(PurchaseRefunded.self) == [
                        PurchaseRefunded(
                            orderId: "o-1",
                            memberId: member.id.uuidString.lowercased(),
                            amountCents: 123_456,
                            pointsReversed: 1234,
                            pointsUnrecovered: 0
                        )
                    ]
                )
                // The ledger is append-only and the balance is its sum.
                #expect(try await fixture.count("SELECT sum(delta)::int FROM points_ledger") == 100)
                // The same order id for another member is a conflict, not a second purchase.
                let second = try await fixture.register(client, phone: "13911113333", code: try #require(codes["g1"]))
                #expect(try await fixture.purchase(client, member: second.id, order: "o-1", cents: 5, token: g2).status == .conflict)
                // Another store's guide cannot record sales for this store's members.
                let g3 = try await fixture.guide("g3", store: fixture.store2)
                #expect(try await fixture.purchase(client, member: second.id, order: "o-3", cents: 5, token: g3).status == .notFound)
            }
        }
    }

    @Test("fifty concurrent records of one order give one purchase and its points once")
    func racingPurchase() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().race { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "13811114444", code: try #require(codes["g1"]))
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                let replies = try await concurrently(50) { _ in
                    try await fixture.purchase(client, member: member.id, order: "o-race", cents: 100_000, token: g1).status
                }
                #expect(replies.filter { $0 == .created }.count == 1)
                #expect(replies.filter { $0 == .ok }.count == 49)
                #expect(try await fixture.count("SELECT count(*) FROM purchases") == 1)
                #expect(try await fixture.published(PurchaseRecorded.eventType) == 1)
                #expect(try await balance(fixture, client, member.id) == 1000)
            }
        }
    }

    @Test("a refund after the clearing reverses only what the clearing left, finding the order's lot by its key among many")
    func refundAfterClearing() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let logger = TestEnvironment.logger
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "13811112222", code: try #require(codes["g1"]))
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                _ = try await fixture.purchase(client, member: member.id, order: "o-1", cents: 100_000, token: g1)
                #expect(
                    try await fixture.count(
                        "SELECT count(*) FROM purchases p JOIN points_lots l ON l.id = p.points_lot_id WHERE l.source = 'purchase:o-1'"
                    ) == 1
                )
                // The clearing takes the order's 1,000 points; then a purchase earns 200 more.
                let rituals = DailyRituals(dependencies: fixture.dependencies)
                let step = try rituals.clearingStep()
                var done = false
                for _ in 0..<10 where !done { done = try await fixture.dependencies.transaction { try await rituals.sweep(step, on: $0) } }
                #expect(done)
                _ = try await fixture.purchase(client, member: member.id, order: "o-2", cents: 20_000, token: g1)
                #expect(try await balance(fixture, client, member.id) == 200)

                // Twenty thousand other lots, with statistics that know about them.
                try await fixture.database.query(
                    """
                    INSERT INTO points_lots (member_id, source, points, remaining, earned_at, expires_at)
                    SELECT \(member.id), 'adjustment:' || n, 1, 0, now(), now() FROM generate_series(1, 20000) AS n
                    """,
                    logger: logger
                )
                try await fixture.database.query("ANALYZE points_lots", logger: logger)
                let (expired, scans) = try await fixture.database.withTransaction(logger: logger) { connection in
                    func lotScans() async throws -> Int64 {
                        var scans: Int64 = 0
                        for try await count in try await connection.query(
                            "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'points_lots'",
                            logger: logger
                        ).decode(Int64.self) { scans = count }
                        return scans
                    }
                    let before = try await lotScans()
                    let expired = try await Purchases.expiredPoints(ofOrder: "o-1", on: connection, logger: logger)
                    return (expired, try await lotScans() - before)
                }
                #expect(expired == 1000)
                #expect(scans == 0, "the refund read every lot to find the order's")

                // Nothing is left of what o-1 earned: the refund takes none of o-2's points.
                #expect(try await fixture.call(client, .post, "/api/v1/purchases/o-1/refund", token: g1).status == .ok)
                #expect(try await balance(fixture, client, member.id) == 200)
                #expect(
                    try await fixture.payloads(PurchaseRefunded.self) == [
                        PurchaseRefunded(
                            orderId: "o-1",
                            memberId: member.id.uuidString.lowercased(),
                            amountCents: 100_000,
                            pointsReversed: 0,
                            pointsUnrecovered: 0
                        )
                    ]
                )
            }
        }
    }

    @Test("spending draws from the earliest-expiring points first, once per Idempotency-Key, never below zero")
    func fifoSpending() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "13811112222", code: try #require(codes["g1"]))
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                // Earned in the grace period before the 2026 clearing: expires a year later.
                fixture.clock.advance(by: 199 * 86_400)  // 31 December 2026, the clearing date
                let late = fixture.clock.now().addingTimeInterval(-86_400)
                _ = try await fixture.purchase(client, member: member.id, order: "late", cents: 50_000, at: late, token: g1)
                // Earned in June: expires at the 2026 clearing, so it is spent first.
                _ = try await fixture.purchase(client, member: member.id, order: "early", cents: 30_000, at: MembershipFixture.start, token: g1)
                let spend = { (key: String, points: Int) in
                    try await fixture.call(
                        client,
                        .post,
                        "/api/v1/members/\(member.id)/points/redemptions",
                        token: g1,
                        body: #"{"points": \#(points), "reference": "gift"}"#,
                        headers: [.idempotencyKey: key]
                    )
                }
                #expect(try await spend("k-1", 400).status == .ok)
                #expect(try await spend("k-1", 400).status == .ok)
                #expect(try await balance(fixture, client, member.id) == 400)
                let remaining = try await fixture.database.query(
                    "SELECT source, remaining FROM points_lots ORDER BY expires_at",
                    logger: TestEnvironment.logger
                ).collect().map { try $0.decode((String, Int64).self) }
                #expect(remaining.map(\.0) == ["purchase:early", "purchase:late"])
                #expect(remaining.map(\.1) == [0, 400])
                let tooMuch = try await spend("k-2", 401)
                #expect(tooMuch.status == .unprocessableContent)
                #expect(tooMuch.problem?.errors?.first?.field == "points")
                let noKey = try await fixture.call(
                    client,
                    .post,
                    "/api/v1/members/\(member.id)/points/redemptions",
                    token: g1,
                    body: #"{"points": 1}"#
                )
                #expect(noKey.problem?.errors?.first?.field == "Idempotency-Key")
                #expect(try await balance(fixture, client, member.id) == 400)
            }
        }
    }

    @Test("staff adjust points with a reason, once per Idempotency-Key; a deduction never goes below zero; guides may not")
    func adjustments() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "13811113333", code: try #require(codes["g1"]))
                let manager = try await fixture.token(.storeManager, fixture.id("sm1"), store: fixture.store1)
                let adjust = { (key: String, body: String, token: String) in
                    try await fixture.call(
                        client,
                        .post,
                        "/api/v1/members/\(member.id)/points/adjustments",
                        token: token,
                        body: body,
                        headers: [.idempotencyKey: key]
                    )
                }
                let added = try await adjust("a-1", #"{"points": 500, "reason": "delivery was late"}"#, manager)
                #expect(added.status == .ok)
                #expect(try await adjust("a-1", #"{"points": 500, "reason": "delivery was late"}"#, manager).status == .ok)
                #expect(try await balance(fixture, client, member.id) == 500)
                let lot = try await fixture.database.query(
                    "SELECT source, remaining FROM points_lots WHERE member_id = \(member.id)",
                    logger: TestEnvironment.logger
                )
                .collect().map { try $0.decode((String, Int64).self) }
                #expect(lot.map(\.0) == ["adjust:a-1"] && lot.map(\.1) == [500])

                let tooMuch = try await adjust("a-2", #"{"points": -501, "reason": "correction"}"#, manager)
                #expect(tooMuch.status == .unprocessableContent)
                #expect(tooMuch.problem?.errors?.first?.field == "points")
                #expect(try await adjust("a-3", #"{"points": -200, "reason": "correction"}"#, manager).status == .ok)
                #expect(try await balance(fixture, client, member.id) == 300)

                let g1 = try await fixture.guide("g1", store: fixture.store1)
                #expect(try await adjust("a-4", #"{"points": 10, "reason": "friendly"}"#, g1).status == .forbidden)
                let blank = try await adjust("a-5", #"{"points": 0, "reason": " "}"#, manager)
                #expect(Set(blank.problem?.errors?.map(\.field) ?? []) == ["points", "reason"])
                let kinds = try await fixture.payloads(PointsChanged.self).filter { $0.kind == .adjust }.map(\.delta)
                #expect(kinds.sorted() == [-200, 500])
            }
        }
    }

    @Test("a qualifying purchase lifts the tier at once; the yearly review moves it down, with the reason")
    func tiers() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "13811112222", code: try #require(codes["g1"]))
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                _ = try await fixture.purchase(client, member: member.id, order: "big", cents: 2_100_000, token: g1)
                #expect(try await fixture.call(client, .get, "/api/v1/members/\(member.id)", token: g1).decode(MemberView.self).tier == "gold")
                #expect(try await fixture.payloads(TierChanged.self).map(\.reason) == ["purchase_qualified"])
                // Over a year later nothing qualifies any more; the daily timers reach the review
                // on 1 January 2027 (late, as after an outage) and move the member down.
                fixture.clock.advance(by: 400 * 86_400)
                #expect(
                    try await eventually(timeout: .seconds(60)) {
                        try await fixture.sweepFinished("tier-review-2027-01-01")
                    }
                )
                let changes = try await fixture.payloads(TierChanged.self)
                #expect(
                    changes.last
                        == TierChanged(
                            memberId: member.id.uuidString.lowercased(),
                            fromTier: "gold",
                            toTier: "member",
                            reason: "yearly_review",
                            qualifyingSpendCents: 0
                        )
                )
                let progress = try await fixture.call(client, .get, "/api/v1/members/\(member.id)/tier", token: g1).decode(TierBook.Progress.self)
                #expect(progress.tier == "member")
                #expect(progress.nextTier == "silver")
            }
        }
    }

    func balance(_ fixture: MembershipFixture, _ client: some TestClientProtocol, _ member: UUID) async throws -> Int64 {
        try await fixture.call(client, .get, "/api/v1/members/\(member)/points", token: try await fixture.hq).decode(PointsLedger.Statement.self)
            .balance
    }
}
