import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CouponService

/// The store desk on a real database: a code redeemed exactly once under fifty racing
/// redemptions, its undo within the window (once), where and when it is honoured, and
/// looking codes up without telling a guesser which exist.
@Suite("Redeeming coupons", .timeLimit(.minutes(4)))
struct RedemptionTests {
    func redeem(
        _ fixture: CouponFixture,
        _ client: some TestClientProtocol,
        _ code: String,
        as token: String,
        member: String? = nil
    )
        async throws -> (HTTPResponse.Status, String)
    {
        let answer = try await fixture.send(
            client,
            .post,
            "/api/v1/coupons/\(code)/redeem",
            token: token,
            body: #"{"memberId": "\#(member ?? fixture.member)"}"#
        )
        return (answer.0, String(decoding: answer.1, as: UTF8.self))
    }

    @Test("fifty concurrent redemptions of one code give one success and 409s that say when and where")
    func exactlyOnce() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                let coupon = try await fixture.coupon(client, #""name": "Spring 50", "kind": "amount_off", "amountCents": 5000, "validDays": 30"#)
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let answers = try await concurrently(50) { _ in try await redeem(fixture, client, coupon.code, as: manager) }
                #expect(answers.filter { $0.0 == .ok }.count == 1)
                let refused = answers.filter { $0.0 == .conflict }
                #expect(refused.count == 49)
                #expect(refused.allSatisfy { $0.1.contains("Already redeemed at store \(fixture.store)") })
                #expect(try await fixture.count("SELECT count(*) FROM redemptions WHERE code = '\(coupon.code)'") == 1)
                #expect(try await fixture.published(CouponRedeemed.eventType) == 1)
                #expect(try await fixture.status(of: coupon.code) == "redeemed")
                // The answer's history is the one a lookup reads afterwards, to the microsecond.
                let won = try #require(answers.first { $0.0 == .ok })
                let answered = try JSONDecoder.iso.decode(Coupons.Coupon.self, from: Data(won.1.utf8))
                let looked = try await fixture.send(client, .get, "/api/v1/coupons/\(coupon.code)", token: manager)
                let stored = try JSONDecoder.iso.decode(Coupons.Coupon.self, from: looked.1)
                #expect(answered.history?.map(\.kind) == [CouponIssued.eventType, CouponRedeemed.eventType])
                #expect(answered.history == stored.history && answered.status == .redeemed)
                // Its event is the coupon's second, and reads as the contract.
                let rows = try await fixture.database.query(
                    "SELECT envelope FROM outbox WHERE event_type = \(CouponRedeemed.eventType)",
                    logger: TestEnvironment.logger
                ).collect()
                let envelope = try EventCoding.decoder().decode(EventEnvelope<CouponRedeemed>.self, from: Data(try rows[0].decode(String.self).utf8))
                #expect(envelope.metadata.aggregateSequence == 2 && envelope.metadata.aggregateID == "coupon-\(coupon.code)")
                #expect(envelope.payload.storeId == fixture.store && envelope.payload.code == coupon.code)
            }
        }
    }

    @Test("the store's manager undoes a redemption within the window, once; later or elsewhere it is refused")
    func undo() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let coupon = try await fixture.coupon(client, #""name": "Spring 50", "kind": "amount_off", "amountCents": 5000, "validDays": 30"#)
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let guide = try await fixture.token(.guide, fixture.guide)
                let otherManager = try await fixture.token(.storeManager, "\(fixture.prefix)sm-2", store: fixture.secondStore)
                let undo = "/api/v1/coupons/\(coupon.code)/undo-redemption"
                #expect(try await redeem(fixture, client, coupon.code, as: guide).0 == .ok)
                #expect(try await fixture.send(client, .post, undo, token: guide, body: #"{"reason": "wrong coupon"}"#).0 == .forbidden)
                #expect(try await fixture.send(client, .post, undo, token: otherManager, body: #"{"reason": "wrong coupon"}"#).0 == .forbidden)
                let undone = try await fixture.send(client, .post, undo, token: manager, body: #"{"reason": "wrong coupon"}"#)
                #expect(undone.0 == .ok)
                let again = try await fixture.send(client, .post, undo, token: manager, body: #"{"reason": "again"}"#)
                #expect(again.0 == .conflict && String(decoding: again.1, as: UTF8.self).contains("already undone"))
                let active = try JSONDecoder.iso.decode(Coupons.Coupon.self, from: undone.1)
                #expect(
                    active.status == .active && active.history?.map(\.kind).suffix(2) == [CouponRedeemed.eventType, CouponRedemptionUndone.eventType]
                )
                // Redeemed again, then past the window: the undo is refused.
                #expect(try await redeem(fixture, client, coupon.code, as: manager).0 == .ok)
                fixture.clock.advance(by: 31 * 60)
                #expect(try await fixture.send(client, .post, undo, token: manager, body: #"{"reason": "late"}"#).0 == .conflict)
                #expect(try await fixture.published(CouponRedemptionUndone.eventType) == 1)
            }
        }
    }

    @Test("only the coupon's member, within validity, at a store that honours it; a free service coupon is booked, not redeemed")
    func whereAndWhen() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let second = try await fixture.token(.storeManager, "\(fixture.prefix)sm-2", store: fixture.secondStore)
                let storeOnly = try await fixture.coupon(
                    client,
                    #""name": "Flagship", "kind": "gift", "gift": "Mug", "validDays": 7, "stores": ["\#(fixture.store)"]"#
                )
                #expect(try await redeem(fixture, client, storeOnly.code, as: second).0 == .conflict)
                #expect(try await redeem(fixture, client, storeOnly.code, as: manager, member: fixture.unbound).0 == .unprocessableContent)
                let service = try await fixture.coupon(
                    client,
                    #""name": "Mite removal", "kind": "free_service", "serviceType": "mite_removal", "validDays": 90"#
                )
                #expect(try await redeem(fixture, client, service.code, as: manager).0 == .unprocessableContent)
                let later = try await fixture.coupon(
                    client,
                    #""name": "Summer", "kind": "gift", "gift": "Fan", "validFrom": "2030-06-01T00:00:00Z", "validUntil": "2030-08-31T00:00:00Z""#
                )
                #expect(try await redeem(fixture, client, later.code, as: manager).1.contains("Valid from"))
                fixture.clock.advance(by: 8 * 86400)
                let expired = try await redeem(fixture, client, storeOnly.code, as: manager)
                #expect(expired.0 == .conflict && expired.1.contains("Expired"))
                #expect(try await fixture.published(CouponRedeemed.eventType) == 0)
                // A refused redemption leaves no trace but the refusal.
                #expect(try await fixture.count("SELECT count(*) FROM redemptions") == 0)
                #expect(try await fixture.count("SELECT count(*) FROM coupon_history WHERE kind = '\(CouponRedeemed.eventType)'") == 0)
            }
        }
    }

    @Test("a mistyped code is told apart; an unknown code and another dealer's answer alike; repeated failures are slowed down")
    func lookups() async throws {
        var limited = CouponSettings()
        limited.lookupFailures = 5
        let settings = limited
        try await CouponFixture.with { fixture in
            try await fixture.app(settings: settings).test(.live) { client in
                try await fixture.seed(client)
                let mine = try await fixture.coupon(client, #""name": "Gift", "kind": "gift", "gift": "Mug", "validDays": 7"#)
                let template = try await fixture.template(client, #""name": "Foreign", "kind": "gift", "gift": "Cup", "validDays": 7"#)
                let foreign = try #require(try await fixture.issue(client, template.id, to: fixture.foreigner).1)
                let member = try await fixture.token(.member, fixture.member)
                let manager = try await fixture.token(.storeManager, fixture.manager)

                let own = try await fixture.send(client, .get, "/api/v1/coupons/\(mine.code.lowercased())", token: member)
                #expect(own.0 == .ok)
                #expect(try JSONDecoder.iso.decode(Coupons.Coupon.self, from: own.1).history?.first?.kind == CouponIssued.eventType)
                var typo = Array(mine.code)
                typo[3] = typo[3] == "A" ? "B" : "A"
                let mistyped = try await fixture.send(client, .get, "/api/v1/coupons/\(String(typo))", token: manager)
                #expect(mistyped.0 == .unprocessableContent && String(decoding: mistyped.1, as: UTF8.self).contains("mistyped"))
                let unknownCode = String(CouponCode.generate())
                let unknown = try await fixture.send(client, .get, "/api/v1/coupons/\(unknownCode)", token: manager)
                let other = try await fixture.send(client, .get, "/api/v1/coupons/\(foreign.code)", token: manager)
                #expect(unknown.0 == .notFound && other.0 == .notFound)
                let detail = { (data: Data) in try JSONDecoder().decode(ProblemBody.self, from: data).detail }
                #expect(try detail(unknown.1) == detail(other.1))
                // Five failures so far (mistyped, unknown, another dealer's ... and two more): then 429.
                _ = try await fixture.send(client, .get, "/api/v1/coupons/\(unknownCode)", token: manager)
                _ = try await fixture.send(client, .get, "/api/v1/coupons/NOTACODE", token: manager)
                let slowed = try await client.execute(uri: "/api/v1/coupons/\(mine.code)", method: .get, headers: .bearer(manager)) { $0 }
                #expect(slowed.status == .tooManyRequests && slowed.headers[.retryAfter] != nil)
                // The desk is held back too, and nothing is redeemed.
                #expect(try await redeem(fixture, client, mine.code, as: manager).0 == .tooManyRequests)
                #expect(try await fixture.status(of: mine.code) == "active")
                // Another caller is not held back; the window passes for the first.
                #expect(try await fixture.send(client, .get, "/api/v1/coupons/\(mine.code)", token: member).0 == .ok)
                fixture.clock.advance(by: 12 * 60)
                #expect(try await fixture.send(client, .get, "/api/v1/coupons/\(mine.code)", token: manager).0 == .ok)

                // A member's list: their own, by status.
                let listed = try await fixture.send(client, .get, "/api/v1/coupons?status=active", token: member)
                #expect(try JSONDecoder.iso.decode(CouponDesk.Listing.self, from: listed.1).coupons.map(\.code) == [mine.code])
                #expect(try await fixture.send(client, .get, "/api/v1/coupons?status=bogus", token: member).0 == .unprocessableContent)
            }
        }
    }
}
