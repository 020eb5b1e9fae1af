import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CouponService

/// Store events on a real database: set up by a store's manager, invitations by a guide, a
/// member checking in with the event's code (twice: one gift), the desk redeeming it, the
/// statistics with attendees' purchases; racing check-ins against the capacity; who may do
/// what, and bad input.
@Suite("Store events", .timeLimit(.minutes(4)))
struct StoreEventTests {
    func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    /// An event at the first store starting in `startsIn` seconds, for two hours.
    func create(
        _ fixture: CouponFixture,
        _ client: some TestClientProtocol,
        gift: UUID,
        capacity: Int? = nil,
        startsIn: TimeInterval = 1800,
        as token: String? = nil,
        store: String? = nil
    ) async throws -> (HTTPResponse.Status, Data) {
        let manager = try await fixture.token(.storeManager, fixture.manager)
        let starts = fixture.clock.now().addingTimeInterval(startsIn)
        let body = """
            {"name": "Spring care day", "storeId": "\(store ?? fixture.store)", "startsAt": "\(iso(starts))",
             "endsAt": "\(iso(starts.addingTimeInterval(7200)))", "giftTemplateId": "\(gift)"\(capacity.map { #", "capacity": \#($0)"# } ?? "")}
            """
        return try await fixture.send(client, .post, "/api/v1/store-events", token: token ?? manager, body: body)
    }

    func event(_ fixture: CouponFixture, _ client: some TestClientProtocol, gift: UUID, capacity: Int? = nil) async throws -> StoreEvents.View {
        let (status, data) = try await create(fixture, client, gift: gift, capacity: capacity)
        guard status == .created else { throw FixtureError(message: "event: \(status) \(String(decoding: data, as: UTF8.self))") }
        return try JSONDecoder.iso.decode(StoreEvents.View.self, from: data)
    }

    func gift(_ fixture: CouponFixture, _ client: some TestClientProtocol, quantity: Int? = nil) async throws -> Templates.View {
        let budget = quantity.map { #", "quantity": \#($0)"# } ?? ""
        return try await fixture.template(client, #""name": "Care kit", "kind": "gift", "gift": "Care kit", "validDays": 30"# + budget)
    }

    func checkIn(
        _ fixture: CouponFixture,
        _ client: some TestClientProtocol,
        _ event: UUID,
        _ body: String,
        as token: String
    ) async throws -> (HTTPResponse.Status, StoreEvents.CheckIn?, String) {
        let (status, data) = try await fixture.send(client, .post, "/api/v1/store-events/\(event)/check-ins", token: token, body: body)
        let checkIn = [.created, .ok].contains(status) ? try JSONDecoder.iso.decode(StoreEvents.CheckIn.self, from: data) : nil
        return (status, checkIn, String(decoding: data, as: UTF8.self))
    }

    func purchase(_ fixture: CouponFixture, _ order: String, at date: Date, cents: Int64) throws -> BusStandIn.Event {
        let bought = PurchaseRecorded(
            orderId: "\(fixture.prefix)\(order)",
            memberId: fixture.member,
            storeId: fixture.store,
            dealerId: fixture.dealer,
            guideId: fixture.guide,
            amountCents: cents,
            items: [],
            purchasedAt: date,
            pointsEarned: 0
        )
        return try BusStandIn.event(bought, aggregate: fixture.member, producer: "membership")
    }

    @Test("invited, checked in twice with one gift, redeemed at the desk, and counted with the purchases after it")
    func journey() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let event = try await event(fixture, client, gift: try await gift(fixture, client).id)
                let guide = try await fixture.token(.guide, fixture.guide)
                let invitation = #"{"memberIds": ["\#(fixture.member)"]}"#
                let invited = try await fixture.send(client, .post, "/api/v1/store-events/\(event.id)/invitations", token: guide, body: invitation)
                #expect(invited.0 == .ok)
                #expect(try JSONDecoder.iso.decode(StoreEvents.Invited.self, from: invited.1).invited == [fixture.member])
                let twice = try await fixture.send(client, .post, "/api/v1/store-events/\(event.id)/invitations", token: guide, body: invitation)
                #expect(try JSONDecoder.iso.decode(StoreEvents.Invited.self, from: twice.1).alreadyInvited == [fixture.member])

                let member = try await fixture.token(.member, fixture.member)
                let seen = try await fixture.send(client, .get, "/api/v1/store-events/\(event.id)", token: member)
                let shown = try JSONDecoder.iso.decode(StoreEvents.View.self, from: seen.1)
                #expect(seen.0 == .ok && shown.checkInCode == nil)
                let code = try #require(event.checkInCode)
                let wrong = try await checkIn(fixture, client, event.id, #"{"code": "WRONGCODE"}"#, as: member)
                #expect(wrong.0 == .unprocessableContent && wrong.2.contains("code"))
                let first = try await checkIn(fixture, client, event.id, #"{"code": "\#(code)"}"#, as: member)
                let second = try await checkIn(fixture, client, event.id, #"{"code": "\#(code)"}"#, as: member)
                #expect(first.0 == .created && second.0 == .ok)
                let coupon = try #require(first.1?.couponCode)
                #expect(first.1?.invited == true && second.1?.couponCode == coupon)
                #expect(try await fixture.count("SELECT count(*) FROM coupons WHERE issue_key LIKE 'event/%'") == 1)
                try await waitUntil("the check-in told") { try await fixture.published(StoreEventCheckedIn.eventType) == 1 }
                #expect(try await fixture.published(StoreEventMemberInvited.eventType) == 1)

                let manager = try await fixture.token(.storeManager, fixture.manager)
                let desk = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/coupons/\(coupon)/redeem",
                    token: manager,
                    body: #"{"memberId": "\#(fixture.member)"}"#
                )
                #expect(desk.0 == .ok)
                let walkIn = try await checkIn(fixture, client, event.id, #"{"memberId": "\#(fixture.unbound)"}"#, as: manager)
                #expect(walkIn.0 == .created && walkIn.1?.invited == false)

                let now = fixture.clock.now()
                let purchases = [
                    try purchase(fixture, "o-before", at: now.addingTimeInterval(-86400), cents: 1000),
                    try purchase(fixture, "o-late", at: now.addingTimeInterval(40 * 86400), cents: 2000),
                    try purchase(fixture, "o-after", at: now.addingTimeInterval(3 * 86400), cents: 129_900),
                ]
                try await BusStandIn(broker: fixture.bed.configuration.broker).publish(purchases, producer: "membership")
                try await waitUntil("the purchase after the event") { try await fixture.count("SELECT count(*) FROM purchases") == 1 }
                let answer = try await fixture.send(client, .get, "/api/v1/store-events/\(event.id)/statistics", token: manager)
                let statistics = try JSONDecoder.iso.decode(StoreEvents.Statistics.self, from: answer.1)
                #expect(statistics.invited == 1 && statistics.checkedIn == 2 && statistics.invitedCheckedIn == 1 && statistics.walkIns == 1)
                #expect(statistics.checkInRate == 1 && statistics.giftsIssued == 2 && statistics.giftsRedeemed == 1)
                #expect(statistics.purchases == 1 && statistics.buyers == 1 && statistics.purchasedCents == 129_900)
            }
        }
    }

    @Test("ten members racing for three places give three check-ins and seven 409s; twenty scans at once give one gift")
    func capacity() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                try await fixture.database.query(
                    """
                    INSERT INTO members (member_id, store_id, dealer_id)
                    SELECT \(fixture.prefix) || 'r-' || i, \(fixture.store), \(fixture.dealer) FROM generate_series(1, 10) AS i
                    """,
                    logger: TestEnvironment.logger
                )
                let gift = try await gift(fixture, client)
                let full = try await event(fixture, client, gift: gift.id, capacity: 3)
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let racing = try await concurrently(10) { index in
                    try await checkIn(fixture, client, full.id, #"{"memberId": "\#(fixture.prefix)r-\#(index + 1)"}"#, as: manager).0
                }
                #expect(racing.filter { $0 == .created }.count == 3)
                #expect(racing.filter { $0 == .conflict }.count == 7)
                #expect(try await fixture.count("SELECT count(*) FROM event_checkins WHERE event_id = '\(full.id)'") == 3)
                #expect(try await fixture.count("SELECT checked_in FROM store_events WHERE id = '\(full.id)'") == 3)

                let open = try await event(fixture, client, gift: gift.id)
                let member = try await fixture.token(.member, fixture.member)
                let code = try #require(open.checkInCode)
                let scans = try await concurrently(20) { _ in try await checkIn(fixture, client, open.id, #"{"code": "\#(code)"}"#, as: member) }
                #expect(scans.filter { $0.0 == .created }.count == 1)
                #expect(scans.filter { $0.0 == .ok }.count == 19)
                #expect(Set(scans.compactMap { $0.1?.couponCode }).count == 1)
                #expect(try await fixture.count("SELECT count(*) FROM coupons WHERE member_id = '\(fixture.member)'") == 1)
            }
        }
    }

    @Test("who may set up, invite and check in; a used-up gift leaves the check-in standing; bad input names its field")
    func rules() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let gift = try await gift(fixture, client, quantity: 1)
                let guide = try await fixture.token(.guide, fixture.guide)
                #expect(try await create(fixture, client, gift: gift.id, as: guide).0 == .forbidden)
                let foreignAdmin = try await fixture.token(.dealerAdmin, "\(fixture.prefix)da-9", dealer: fixture.foreignDealer)
                let foreign = try await create(fixture, client, gift: gift.id, as: foreignAdmin)
                #expect(foreign.0 == .unprocessableContent && String(decoding: foreign.1, as: UTF8.self).contains("storeId"))
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let body =
                    #"{"name": "Day", "storeId": "\#(fixture.store)", "startsAt": "tomorrow", "endsAt": "2030-03-18T10:00:00Z", "giftTemplateId": "\#(gift.id)"}"#
                let dates = try await fixture.send(client, .post, "/api/v1/store-events", token: manager, body: body)
                #expect(dates.0 == .unprocessableContent && String(decoding: dates.1, as: UTF8.self).contains("startsAt"))
                let tooMany = try await create(fixture, client, gift: gift.id, capacity: 0)
                #expect(tooMany.0 == .unprocessableContent && String(decoding: tooMany.1, as: UTF8.self).contains("capacity"))

                let event = try await event(fixture, client, gift: gift.id)
                let stranger = #"{"memberIds": ["\#(fixture.unbound)"]}"#
                let notTheirs = try await fixture.send(client, .post, "/api/v1/store-events/\(event.id)/invitations", token: guide, body: stranger)
                #expect(notTheirs.0 == .unprocessableContent && String(decoding: notTheirs.1, as: UTF8.self).contains("memberIds[0]"))
                let foreigner = try await fixture.token(.member, fixture.foreigner)
                #expect(try await fixture.send(client, .get, "/api/v1/store-events/\(event.id)", token: foreigner).0 == .notFound)
                let elsewhere = try await checkIn(fixture, client, event.id, #"{"code": "\#(event.checkInCode ?? "")"}"#, as: foreigner)
                #expect(elsewhere.0 == .unprocessableContent && elsewhere.2.contains("memberId"))
                let technician = try await fixture.token(.technician, "\(fixture.prefix)t-1")
                #expect(try await checkIn(fixture, client, event.id, #"{"memberId": "\#(fixture.member)"}"#, as: technician).0 == .forbidden)

                let later = try await create(fixture, client, gift: gift.id, startsIn: 86400)
                let early = try JSONDecoder.iso.decode(StoreEvents.View.self, from: later.1)
                #expect(try await checkIn(fixture, client, early.id, #"{"memberId": "\#(fixture.member)"}"#, as: manager).0 == .conflict)

                let first = try await checkIn(fixture, client, event.id, #"{"memberId": "\#(fixture.member)"}"#, as: manager)
                let second = try await checkIn(fixture, client, event.id, #"{"memberId": "\#(fixture.unbound)"}"#, as: manager)
                #expect(first.0 == .created && first.1?.couponCode != nil)
                #expect(second.0 == .created && second.1?.couponCode == nil && second.1?.giftRefusal?.contains("used up") == true)
            }
        }
    }
}
