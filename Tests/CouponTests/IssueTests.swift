import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CouponService

/// Issuing on a real database: one coupon per idempotency key, a budget and the limits that
/// hold under racing requests, and who may issue what to whom.
@Suite("Issuing coupons", .timeLimit(.minutes(4)))
struct IssueTests {
    @Test("fifty concurrent issues with one Idempotency-Key give one coupon")
    func oneKey() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                let template = try await fixture.template(client, #""name": "Birthday gift", "kind": "gift", "gift": "Pillow", "validDays": 30"#)
                let guide = try await fixture.token(.guide, fixture.guide)
                let answers = try await concurrently(50) { _ in try await fixture.issue(client, template.id, as: guide, key: "gift-2030-03") }
                #expect(answers.filter { $0.0 == .created }.count == 1)
                #expect(answers.filter { $0.0 == .ok }.count == 49)
                #expect(Set(answers.compactMap { $0.1?.code }).count == 1)
                #expect(try await fixture.count("SELECT count(*) FROM coupons") == 1)
                #expect(try await fixture.published(CouponIssued.eventType) == 1)
                #expect(try await fixture.count("SELECT issued FROM coupon_templates WHERE id = '\(template.id)'") == 1)
            }
        }
    }

    @Test("with 100 left, 300 concurrent issues give 100 coupons and 200 clear refusals")
    func budget() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                let template = try await fixture.template(
                    client,
                    #""name": "Spring 50", "kind": "amount_off", "amountCents": 5000, "validDays": 30, "quantity": 100"#
                )
                let answers = try await concurrently(300) { _ in try await fixture.issue(client, template.id).0 }
                #expect(answers.filter { $0 == .created }.count == 100)
                #expect(answers.filter { $0 == .conflict }.count == 200)
                #expect(try await fixture.count("SELECT count(*) FROM coupons") == 100)
                let (status, data) = try await fixture.send(client, .get, "/api/v1/coupon-templates/\(template.id)", token: try await fixture.hq())
                #expect(status == .ok)
                let after = try JSONDecoder.iso.decode(Templates.View.self, from: data)
                #expect(after.issued == 100 && after.remaining == 0)
                let refused = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/coupons",
                    token: try await fixture.hq(),
                    body: #"{"templateId": "\#(template.id)", "memberId": "\#(fixture.member)"}"#
                )
                #expect(refused.0 == .conflict && String(decoding: refused.1, as: UTF8.self).contains("budget"))
            }
        }
    }

    @Test("a per-member limit and a guide's monthly allowance hold under racing issues")
    func limits() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                let perMember = try await fixture.template(
                    client,
                    #""name": "Welcome", "kind": "percent_off", "percent": 10, "validDays": 30, "perMember": 2"#
                )
                let toMember = try await concurrently(30) { _ in try await fixture.issue(client, perMember.id).0 }
                #expect(toMember.filter { $0 == .created }.count == 2 && toMember.filter { $0 == .conflict }.count == 28)

                let allowance = try await fixture.template(
                    client,
                    #""name": "Mite removal", "kind": "free_service", "serviceType": "mite_removal", "validDays": 90, "guideMonthly": 3"#
                )
                let guide = try await fixture.token(.guide, fixture.guide)
                let byGuide = try await concurrently(10) { _ in try await fixture.issue(client, allowance.id, as: guide).0 }
                #expect(byGuide.filter { $0 == .created }.count == 3 && byGuide.filter { $0 == .conflict }.count == 7)
                // HQ is not held to a guide's allowance; next month the guide has it again.
                #expect(try await fixture.issue(client, allowance.id).0 == .created)
                fixture.clock.advance(by: 31 * 86400)
                #expect(try await fixture.issue(client, allowance.id, as: guide).0 == .created)
            }
        }
    }

    @Test("who may issue what to whom: scope, issuers, dealer templates, paused templates")
    func scope() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let gift = try await fixture.template(
                    client,
                    #""name": "Gift", "kind": "gift", "gift": "Mug", "validDays": 30, "issuers": ["hq_admin", "guide"]"#
                )
                let guide = try await fixture.token(.guide, fixture.guide)
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let admin = try await fixture.token(.dealerAdmin, fixture.dealerAdmin)
                // A guide gifts their own member, not another.
                #expect(try await fixture.issue(client, gift.id, as: guide).0 == .created)
                #expect(try await fixture.issue(client, gift.id, to: fixture.unbound, as: guide).0 == .unprocessableContent)
                // The template names its issuers.
                #expect(try await fixture.issue(client, gift.id, as: manager).0 == .forbidden)
                #expect(try await fixture.issue(client, gift.id, as: try await fixture.token(.member, fixture.member)).0 == .forbidden)

                // A dealer's own template: their members alone, honoured by their dealer alone.
                let own = try await fixture.template(
                    client,
                    #""name": "Dealer day", "kind": "amount_off", "amountCents": 1000, "validDays": 10"#,
                    as: admin
                )
                #expect(own.dealerId == fixture.dealer)
                #expect(try await fixture.issue(client, own.id, to: fixture.unbound, as: admin).0 == .created)
                #expect(try await fixture.issue(client, own.id, to: fixture.foreigner).0 == .unprocessableContent)
                let naming = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/coupon-templates",
                    token: admin,
                    body: #"{"name": "X", "kind": "gift", "gift": "Y", "validDays": 1, "dealers": ["\#(fixture.foreignDealer)"]}"#
                )
                #expect(naming.0 == .unprocessableContent)
                #expect(
                    try await fixture.send(
                        client,
                        .post,
                        "/api/v1/coupon-templates",
                        token: manager,
                        body: #"{"name": "X", "kind": "gift", "gift": "Y", "validDays": 1}"#
                    ).0 == .forbidden
                )

                // A paused template issues nothing; coupons already out keep their terms.
                let paused = try await fixture.send(
                    client,
                    .put,
                    "/api/v1/coupon-templates/\(gift.id)",
                    token: try await fixture.hq(),
                    body: #"{"paused": true}"#
                )
                #expect(paused.0 == .ok)
                #expect(try await fixture.issue(client, gift.id).0 == .conflict)
                #expect(try await fixture.count("SELECT count(*) FROM coupons WHERE template_id = '\(gift.id)' AND status = 'active'") == 1)

                // Bad definitions name the field.
                let bad = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/coupon-templates",
                    token: try await fixture.hq(),
                    body: #"{"name": "X", "kind": "percent_off", "percent": 120, "validDays": 10}"#
                )
                #expect(bad.0 == .unprocessableContent && String(decoding: bad.1, as: UTF8.self).contains("percent"))
                let noValidity = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/coupon-templates",
                    token: try await fixture.hq(),
                    body: #"{"name": "X", "kind": "gift", "gift": "Y"}"#
                )
                #expect(noValidity.0 == .unprocessableContent && String(decoding: noValidity.1, as: UTF8.self).contains("validDays"))
            }
        }
    }
}
