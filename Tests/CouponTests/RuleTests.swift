import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CouponService

/// Issuing rules on membership's events, played by the test as membership would publish
/// them: once per member and occasion however often the event comes, never past the budget
/// (a refusal does not hold the queue up), a tier's gift for that tier alone, and a dealer
/// admin's rule for their dealer's members alone.
@Suite("Issuing rules on membership events", .timeLimit(.minutes(4)))
struct RuleTests {
    func rule(_ fixture: CouponFixture, _ client: some TestClientProtocol, _ body: String, as token: String) async throws -> IssueRules.Rule {
        let (status, data) = try await fixture.send(client, .post, "/api/v1/coupon-rules", token: token, body: body)
        guard status == .created else { throw FixtureError(message: "rule: \(status) \(String(decoding: data, as: UTF8.self))") }
        return try JSONDecoder.iso.decode(IssueRules.Rule.self, from: data)
    }

    func issued(_ fixture: CouponFixture, _ template: UUID, to member: String) async throws -> Int {
        try await fixture.count("SELECT count(*) FROM coupons WHERE template_id = '\(template)' AND member_id = '\(member)'")
    }

    @Test("a birthday gift once per member and year, within the budget; a tier's gift for that tier alone")
    func birthdayAndTier() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let hq = try await fixture.hq()
                let gift = try await fixture.template(client, #""name": "Birthday", "kind": "gift", "gift": "Cake", "validDays": 30, "quantity": 2"#)
                _ = try await rule(fixture, client, #"{"eventType": "membership.birthday.month_started", "templateId": "\#(gift.id)"}"#, as: hq)
                let gold = try await fixture.template(client, #""name": "Gold welcome", "kind": "percent_off", "percent": 15, "validDays": 60"#)
                _ = try await rule(fixture, client, #"{"eventType": "membership.tier.changed", "templateId": "\#(gold.id)", "tier": "gold"}"#, as: hq)

                let bus = BusStandIn(broker: fixture.bed.configuration.broker)
                let birthday = try BusStandIn.event(
                    BirthdayMonthStarted(memberId: fixture.member, year: 2030, month: 3, day: 1),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                // Redelivered, and the month's sweep run again (a new event): one gift.
                try await bus.publish([birthday, birthday], producer: "membership")
                try await bus.publish(
                    [BirthdayMonthStarted(memberId: fixture.member, year: 2030, month: 3, day: 1)],
                    aggregate: fixture.member,
                    producer: "membership"
                )
                let others = try [fixture.unbound, fixture.foreigner].map {
                    try BusStandIn.event(BirthdayMonthStarted(memberId: $0, year: 2030, month: 3, day: 1), aggregate: $0, producer: "membership")
                }
                try await bus.publish(others, producer: "membership")
                let tiers = [
                    TierChanged(memberId: fixture.member, fromTier: "basic", toTier: "silver", reason: "spend", qualifyingSpendCents: 100_000),
                    TierChanged(memberId: fixture.unbound, fromTier: "silver", toTier: "gold", reason: "spend", qualifyingSpendCents: 500_000),
                ]
                try await bus.publish(tiers, aggregate: "tiers", producer: "membership")
                try await waitUntil("the gold welcome gift") { try await issued(fixture, gold.id, to: fixture.unbound) == 1 }
                // The foreigner's birthday was handled (refused: the budget is used up), not left stuck.
                try await waitUntil("every birthday handled") {
                    try await fixture.count("SELECT count(*) FROM inbox WHERE event_id IN ('\(others[0].id)', '\(others[1].id)')") == 2
                }
                #expect(try await issued(fixture, gold.id, to: fixture.member) == 0)
                #expect(try await issued(fixture, gift.id, to: fixture.member) == 1)
                // The budget of two: the member's, and whichever of the other two came first.
                let gifted = try await issued(fixture, gift.id, to: fixture.unbound) + issued(fixture, gift.id, to: fixture.foreigner)
                #expect(gifted == 1)
                #expect(try await fixture.count("SELECT issued FROM coupon_templates WHERE id = '\(gift.id)'") == 2)
                let why = try await fixture.database.query(
                    "SELECT issued_why FROM coupons WHERE template_id = \(gold.id)",
                    logger: TestEnvironment.logger
                ).collect().first?.decode(String.self)
                #expect(why == "rule: membership.tier.changed")
            }
        }
    }

    @Test("a dealer admin's welcome rule reaches their dealer's new members alone; a rule switched off issues nothing")
    func dealerRule() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let admin = try await fixture.token(.dealerAdmin, fixture.dealerAdmin)
                let welcome = try await fixture.template(client, #""name": "Welcome", "kind": "amount_off", "amountCents": 2000, "validDays": 30"#)
                let made = try await rule(
                    fixture,
                    client,
                    #"{"eventType": "membership.member.registered", "templateId": "\#(welcome.id)"}"#,
                    as: admin
                )
                #expect(made.dealerId == fixture.dealer)
                let bus = BusStandIn(broker: fixture.bed.configuration.broker)
                let joiners = [
                    ("\(fixture.prefix)m-10", fixture.store, fixture.dealer), ("\(fixture.prefix)m-90", fixture.foreignStore, fixture.foreignDealer),
                ]
                let registered = joiners.map { id, store, dealer in
                    MemberRegistered(
                        memberId: id,
                        guideId: nil,
                        storeId: store,
                        dealerId: dealer,
                        serviceMessagesConsent: true,
                        marketingConsent: false
                    )
                }
                try await bus.publish(registered, aggregate: "joiners", producer: "membership")
                try await waitUntil("the welcome coupon") { try await issued(fixture, welcome.id, to: "\(fixture.prefix)m-10") == 1 }
                try await waitUntil("the other dealer's member arrived") {
                    try await fixture.count("SELECT count(*) FROM members WHERE member_id = '\(fixture.prefix)m-90'") == 1
                }
                #expect(try await issued(fixture, welcome.id, to: "\(fixture.prefix)m-90") == 0)

                let off = try await fixture.send(client, .put, "/api/v1/coupon-rules/\(made.id)", token: admin, body: #"{"active": false}"#)
                #expect(off.0 == .ok)
                let late = MemberRegistered(
                    memberId: "\(fixture.prefix)m-11",
                    guideId: nil,
                    storeId: fixture.store,
                    dealerId: fixture.dealer,
                    serviceMessagesConsent: true,
                    marketingConsent: false
                )
                try await bus.publish([late], aggregate: late.memberId, producer: "membership")
                try await waitUntil("the late joiner arrived") {
                    try await fixture.count("SELECT count(*) FROM members WHERE member_id = '\(late.memberId)'") == 1
                }
                #expect(try await issued(fixture, welcome.id, to: late.memberId) == 0)

                let bad = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/coupon-rules",
                    token: admin,
                    body: #"{"eventType": "membership.birthday.month_started", "templateId": "\#(welcome.id)", "tier": "gold"}"#
                )
                #expect(bad.0 == .unprocessableContent && String(decoding: bad.1, as: UTF8.self).contains("tier"))
                let manager = try await fixture.token(.storeManager, fixture.manager)
                #expect(try await fixture.send(client, .get, "/api/v1/coupon-rules", token: manager).0 == .forbidden)
            }
        }
    }
}
