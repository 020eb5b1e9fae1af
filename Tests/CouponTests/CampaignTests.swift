import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CouponService

/// Campaigns on a real database: a segment by store, tier and tag issued in batches, each
/// member once; the budget stopping it with its reason; a dealer admin kept to their dealer;
/// and a campaign that goes on where it got to after the service restarts.
@Suite("Coupon campaigns", .timeLimit(.minutes(4)))
struct CampaignTests {
    /// `count` more members of `store`: every second one gold, every third one tagged vip.
    func members(_ fixture: CouponFixture, _ count: Int, store: String? = nil, dealer: String? = nil) async throws {
        try await fixture.database.query(
            """
            INSERT INTO members (member_id, guide_id, store_id, dealer_id, tier, tags)
            SELECT \(fixture.prefix) || 'c-' || lpad(i::text, 5, '0'), NULL, \(store ?? fixture.store), \(dealer ?? fixture.dealer),
                   CASE WHEN i % 2 = 0 THEN 'gold' END, CASE WHEN i % 3 = 0 THEN ARRAY['vip'] ELSE '{}' END
            FROM generate_series(1, \(count)) AS i
            """,
            logger: TestEnvironment.logger
        )
    }

    func batches(of size: Int, pause: TimeInterval = 0) -> CouponSettings {
        var settings = CouponSettings()
        settings.campaignBatch = size
        settings.campaignPause = pause
        return settings
    }

    func start(
        _ fixture: CouponFixture,
        _ client: some TestClientProtocol,
        _ fields: String,
        as token: String? = nil,
        key: String? = nil
    ) async throws -> (HTTPResponse.Status, Data) {
        var headers = HTTPFields.bearer(try await fixture.hqUnless(token))
        if let key { headers[.idempotencyKey] = key }
        return try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: headers, body: ByteBuffer(string: "{\(fields)}")) {
            ($0.status, Data(buffer: $0.body))
        }
    }

    func started(_ fixture: CouponFixture, _ client: some TestClientProtocol, _ fields: String) async throws -> Campaigns.View {
        let (status, data) = try await start(fixture, client, fields)
        guard status == .accepted else { throw FixtureError(message: "campaign: \(status) \(String(decoding: data, as: UTF8.self))") }
        return try JSONDecoder.iso.decode(Campaigns.View.self, from: data)
    }

    func show(_ fixture: CouponFixture, _ client: some TestClientProtocol, _ id: UUID) async throws -> Campaigns.View {
        let (status, data) = try await fixture.send(client, .get, "/api/v1/campaigns/\(id)", token: try await fixture.hq())
        guard status == .ok else { throw FixtureError(message: "campaign: \(status)") }
        return try JSONDecoder.iso.decode(Campaigns.View.self, from: data)
    }

    func ended(_ fixture: CouponFixture, _ client: some TestClientProtocol, _ id: UUID) async throws -> Campaigns.View {
        try await waitUntil("the campaign ended", timeout: .seconds(60)) { try await show(fixture, client, id).status != .running }
        return try await show(fixture, client, id)
    }

    /// Coupons the campaign issued, and the members who have one.
    func issued(_ fixture: CouponFixture, _ id: UUID) async throws -> (coupons: Int, members: Int) {
        let key = "campaign/\(id.lowercasedString)/%"
        let coupons = try await fixture.count("SELECT count(*) FROM coupons WHERE issue_key LIKE '\(key)'")
        let members = try await fixture.count("SELECT count(DISTINCT member_id) FROM coupons WHERE issue_key LIKE '\(key)'")
        return (coupons, members)
    }

    @Test("a store's gold members and a dealer's vip members each get one coupon, in batches, with the progress told")
    func segments() async throws {
        let settings = batches(of: 4)
        try await CouponFixture.with { fixture in
            try await fixture.app(settings: settings).test(.live) { client in
                try await fixture.seed(client)
                try await members(fixture, 30)
                let template = try await fixture.template(client, #""name": "Gold gift", "kind": "gift", "gift": "Pillow", "validDays": 30"#)
                let gold = try await started(
                    fixture,
                    client,
                    #""name": "Gold spring", "templateId": "\#(template.id)", "segment": {"storeId": "\#(fixture.store)", "tier": "gold"}"#
                )
                #expect(gold.matched == 15)
                let goldEnd = try await ended(fixture, client, gold.id)
                #expect(goldEnd.status == .finished)
                #expect(goldEnd.issued == 15 && goldEnd.considered == 15 && goldEnd.skipped == 0)
                #expect(try await issued(fixture, gold.id) == (15, 15))
                let golden = "SELECT count(*) FROM coupons c JOIN members m USING (member_id) WHERE m.tier = 'gold'"
                #expect(try await fixture.count(golden) == 15)

                let vip = try await started(
                    fixture,
                    client,
                    #""name": "VIP", "templateId": "\#(template.id)", "segment": {"dealerId": "\#(fixture.dealer)", "tag": "vip"}"#
                )
                #expect(try await ended(fixture, client, vip.id).issued == 10)
                #expect(try await issued(fixture, vip.id) == (10, 10))
                try await waitUntil("every coupon told") { try await fixture.published(CouponIssued.eventType) == 25 }
                #expect(try await fixture.count("SELECT issued FROM coupon_templates WHERE id = '\(template.id)'") == 25)

                // HQ pages through them four at a time: every coupon once, newest first.
                var pages: [[Coupons.Coupon]] = []
                var after: String? = nil
                repeat {
                    let uri = "/api/v1/coupons?limit=4" + (after.map { "&after=\($0)" } ?? "")
                    let page = try JSONDecoder.iso.decode(
                        CouponDesk.Listing.self,
                        from: try await fixture.send(client, .get, uri, token: try await fixture.hq()).1
                    )
                    pages.append(page.coupons)
                    after = page.next
                } while after != nil && pages.count < 20
                let paged = pages.flatMap { $0 }
                #expect(pages.count == 7 && paged.count == 25 && Set(paged.map(\.code)).count == 25)
                #expect(paged.map(\.issuedAt) == paged.map(\.issuedAt).sorted(by: >))
                let bad = try await fixture.send(client, .get, "/api/v1/coupons?after=yesterday", token: try await fixture.hq())
                #expect(bad.0 == .unprocessableContent && String(decoding: bad.1, as: UTF8.self).contains("after"))
            }
        }
    }

    @Test("the budget stops a campaign and says so; a member at the per-member limit is skipped")
    func limits() async throws {
        let settings = batches(of: 3)
        try await CouponFixture.with { fixture in
            try await fixture.app(settings: settings).test(.live) { client in
                try await fixture.seed(client)
                try await members(fixture, 12)
                let budget = try await fixture.template(
                    client,
                    #""name": "Spring 50", "kind": "amount_off", "amountCents": 5000, "validDays": 30, "quantity": 5"#
                )
                let spring = try await started(
                    fixture,
                    client,
                    #""name": "Spring", "templateId": "\#(budget.id)", "segment": {"storeId": "\#(fixture.store)"}"#
                )
                let end = try await ended(fixture, client, spring.id)
                #expect(end.status == .stopped)
                #expect(end.issued == 5)
                #expect(end.stopReason?.contains("used up") == true)
                #expect(try await issued(fixture, spring.id) == (5, 5))

                let once = try await fixture.template(client, #""name": "Welcome", "kind": "gift", "gift": "Mug", "validDays": 30, "perMember": 1"#)
                #expect(try await fixture.issue(client, once.id, to: fixture.member).0 == .created)
                let welcome = try await started(
                    fixture,
                    client,
                    #""name": "Welcome", "templateId": "\#(once.id)", "segment": {"storeId": "\#(fixture.store)"}"#
                )
                let welcomed = try await ended(fixture, client, welcome.id)
                // The seeded store has the guide's member, the one without a guide, and twelve more.
                #expect(welcomed.status == .finished && welcomed.matched == 14)
                #expect(welcomed.issued == 13 && welcomed.skipped == 1)
                #expect(
                    try await fixture.count("SELECT count(*) FROM coupons WHERE template_id = '\(once.id)' AND member_id = '\(fixture.member)'") == 1
                )
            }
        }
    }

    @Test("a dealer admin's campaign stays in their dealer; bad input names its field; a repeated key starts nothing more")
    func scope() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                try await members(fixture, 4, store: fixture.foreignStore, dealer: fixture.foreignDealer)
                let template = try await fixture.template(client, #""name": "Gift", "kind": "gift", "gift": "Mug", "validDays": 30"#)
                let admin = try await fixture.token(.dealerAdmin, fixture.dealerAdmin)
                let body = #""name": "Ours", "templateId": "\#(template.id)""#
                let foreign = try await start(fixture, client, body + #", "segment": {"dealerId": "\#(fixture.foreignDealer)"}"#, as: admin)
                #expect(foreign.0 == .unprocessableContent && String(decoding: foreign.1, as: UTF8.self).contains("segment.dealerId"))
                let store = try await start(fixture, client, body + #", "segment": {"storeId": "\#(fixture.foreignStore)"}"#, as: admin)
                #expect(store.0 == .unprocessableContent && String(decoding: store.1, as: UTF8.self).contains("segment.storeId"))
                let unnamed = try await start(fixture, client, #""name": " ", "templateId": "\#(template.id)""#)
                #expect(unnamed.0 == .unprocessableContent && String(decoding: unnamed.1, as: UTF8.self).contains("\"name\""))
                let guide = try await fixture.token(.guide, fixture.guide)
                #expect(try await start(fixture, client, body, as: guide).0 == .forbidden)

                let first = try await start(fixture, client, body, as: admin, key: "spring-2030")
                let again = try await start(fixture, client, body, as: admin, key: "spring-2030")
                #expect(first.0 == .accepted && again.0 == .ok)
                let ours = try JSONDecoder.iso.decode(Campaigns.View.self, from: first.1)
                #expect(try JSONDecoder.iso.decode(Campaigns.View.self, from: again.1).id == ours.id)
                #expect(ours.segment.dealerId == fixture.dealer && ours.matched == 2)
                #expect(try await ended(fixture, client, ours.id).issued == 2)
                #expect(try await fixture.count("SELECT count(*) FROM campaigns") == 1)
                #expect(try await fixture.count("SELECT count(*) FROM coupons WHERE dealer_id <> '\(fixture.dealer)'") == 0)

                let elsewhere = try await fixture.token(.dealerAdmin, "\(fixture.prefix)da-9", dealer: fixture.foreignDealer)
                #expect(try await fixture.send(client, .get, "/api/v1/campaigns/\(ours.id)", token: elsewhere).0 == .notFound)
                let listed = try await fixture.send(client, .get, "/api/v1/campaigns", token: elsewhere)
                #expect(try JSONDecoder.iso.decode(Campaigns.Listing.self, from: listed.1).campaigns.isEmpty)
            }
        }
    }

    @Test("a campaign goes on after a restart where it got to, each member once; a stopped one issues no more")
    func restart() async throws {
        let settings = batches(of: 2, pause: 60)
        try await CouponFixture.with { fixture in
            let campaign = try await fixture.app(settings: settings).test(.live) { client in
                try await fixture.seed(client)
                try await members(fixture, 7)
                let template = try await fixture.template(client, #""name": "Gift", "kind": "gift", "gift": "Mug", "validDays": 30"#)
                let body = #""templateId": "\#(template.id)", "segment": {"storeId": "\#(fixture.store)"}"#
                let campaign = try await started(fixture, client, #""name": "Slow", "# + body)
                try await waitUntil("the first batch") { try await show(fixture, client, campaign.id).considered == 2 }
                let halted = try await started(fixture, client, #""name": "Halted", "# + body)
                try await waitUntil("its first batch") { try await show(fixture, client, halted.id).considered == 2 }
                let stop = try await fixture.send(client, .post, "/api/v1/campaigns/\(halted.id)/stop", token: try await fixture.hq())
                #expect(stop.0 == .ok)
                let again = try await fixture.send(client, .post, "/api/v1/campaigns/\(halted.id)/stop", token: try await fixture.hq())
                #expect(again.0 == .conflict)
                return (campaign.id, halted.id)
            }
            try await fixture.app(settings: settings).test(.live) { client in
                try await waitReady("coupon", client)
                try await waitUntil("the campaign finished", timeout: .seconds(90)) {
                    fixture.clock.advance(by: 61)
                    return try await show(fixture, client, campaign.0).status == .finished
                }
                let end = try await show(fixture, client, campaign.0)
                #expect(end.issued == 9 && end.considered == 9)
                #expect(try await issued(fixture, campaign.0) == (9, 9))
                let halted = try await show(fixture, client, campaign.1)
                #expect(halted.status == .stopped && halted.issued == 2)
                #expect(halted.stopReason?.contains("hq-1") == true)
                #expect(try await issued(fixture, campaign.1) == (2, 2))
            }
        }
    }
}
