import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DispatchService

/// Bookings on a real database and broker: free slots from the technicians' profiles,
/// racing bookings that never overfill a slot, the hard rules, coupons confirmed or refused
/// by the coupon service's events, rescheduling and cancelling, scope and bad input.
@Suite("Bookings and slots", .timeLimit(.minutes(4)))
struct BookingTests {
    @Test("twenty bookings racing for a slot with room for three give three bookings and seventeen 409s")
    func racingBookings() async throws {
        try await DispatchFixture.with(technicians: 6) { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                let member = try await fixture.token(.member, fixture.member)
                let (status, data) = try await fixture.send(client, .get, "/api/v1/slots?serviceType=mite_removal&days=3", token: member)
                #expect(status == .ok)
                let slots = try JSONDecoder.iso.decode(FreeSlots.self, from: data)
                #expect(slots.slots.first { $0.date == fixture.visitDay && $0.window == "09:00-12:00" }?.room == 3)

                let statuses = try await concurrently(20) { _ in try await fixture.book(client).0 }
                #expect(statuses.filter { $0 == .created }.count == 3)
                #expect(statuses.filter { $0 == .conflict }.count == 17)
                #expect(try await fixture.count("SELECT count(*) FROM bookings") == 3)
                // Every technician now holds a seat in that window: it is gone from the free slots.
                let after = try JSONDecoder.iso.decode(
                    FreeSlots.self,
                    from: try await fixture.send(client, .get, "/api/v1/slots?serviceType=mite_removal&days=3", token: member).1
                )
                #expect(!after.slots.contains { $0.date == fixture.visitDay && $0.window == "09:00-12:00" })
                #expect(after.slots.contains { $0.date == fixture.visitDay && $0.window == "13:00-16:00" })
            }
        }
    }

    @Test("fifty concurrent bookings with one Idempotency-Key give one booking, answered to all fifty")
    func oneKey() async throws {
        try await DispatchFixture.with(technicians: 6) { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                let answers = try await concurrently(50) { _ in try await fixture.book(client, key: "visit-2030-03") }
                #expect(answers.map(\.0) == Array(repeating: .created, count: 50))
                #expect(Set(answers.compactMap { $0.1?.id }).count == 1)
                #expect(try await fixture.count("SELECT count(*) FROM bookings") == 1)
                #expect(try await fixture.published(BookingRequestedKind.eventType) == 1)
                // The key is the member's own: another member sending it books a visit of their own.
                let (status, other) = try await fixture.book(client, as: fixture.otherMember, key: "visit-2030-03")
                #expect(status == .created && other?.id != answers.first?.1?.id)
                #expect(try await fixture.count("SELECT count(*) FROM bookings") == 2)
            }
        }
    }

    @Test("skill, days off, working hours and daily capacity decide who is offered a seat")
    func hardRules() async throws {
        try await DispatchFixture.with(technicians: 5) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let t = fixture.technicians
                try await fixture.setProfile(client, t[0], daysOff: [fixture.visitDay])
                try await fixture.setProfile(client, t[1], from: "13:00")
                try await fixture.setProfile(client, t[2], visitsPerDay: 1)
                try await fixture.setProfile(client, t[4], skills: ["repair"])
                let (status, morning) = try await fixture.book(client)
                #expect(status == .created)
                let morningOrder = try #require(morning?.orderId)
                #expect(Set(try await fixture.seats(morningOrder).values.map(\.0)) == [t[2], t[3]])
                // In the afternoon t3 has had their one visit of the day, t1 is still off.
                let (_, afternoon) = try await fixture.book(client, window: "13:00-16:00", as: fixture.otherMember)
                let afternoonOrder = try #require(afternoon?.orderId)
                #expect(Set(try await fixture.seats(afternoonOrder).values.map(\.0)) == [t[1], t[3]])
                let why = try await fixture.order(client, afternoonOrder, as: try await fixture.token(.storeManager, fixture.manager)).seats.map(
                    \.why
                )
                #expect(
                    why.contains("0 visits this week, home store is the member's") && why.contains("1 visit this week, home store is the member's")
                )
            }
        }
    }

    @Test("a booking with a coupon is confirmed or refused by the coupon service's answer, once; one left unanswered expires")
    func coupons() async throws {
        try await DispatchFixture.with(technicians: 4) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let (_, reserved) = try await fixture.book(client, coupon: "MITE-FREE-1")
                let (_, refused) = try await fixture.book(client, window: "13:00-16:00", coupon: "MITE-FREE-2")
                let (_, unanswered) = try await fixture.book(client, window: "16:00-19:00", coupon: "MITE-FREE-3", as: fixture.otherMember)
                let booking = try #require(reserved)
                let other = try #require(refused)
                let late = try #require(unanswered)
                #expect(booking.status == "awaiting_coupon" && booking.orderId == nil)
                #expect(try await fixture.published(BookingRequested.eventType) == 3)

                let bus = BusStandIn(broker: fixture.bed.configuration.broker)
                let answer = try BusStandIn.event(
                    CouponReserved(bookingId: booking.id, couponCode: "MITE-FREE-1", memberId: fixture.member),
                    aggregate: "MITE-FREE-1",
                    producer: "coupon"
                )
                let again = try BusStandIn.event(
                    CouponReserved(bookingId: booking.id, couponCode: "MITE-FREE-1", memberId: fixture.member),
                    aggregate: "MITE-FREE-1",
                    producer: "coupon"
                )
                let refusal = try BusStandIn.event(
                    CouponReservationRefused(bookingId: other.id, couponCode: "MITE-FREE-2", memberId: fixture.member, reason: "the coupon expired"),
                    aggregate: "MITE-FREE-2",
                    producer: "coupon"
                )
                try await bus.publish([answer, answer, again, refusal], producer: "coupon")
                let member = try await fixture.token(.member, fixture.member)
                func show(_ id: UUID) async throws -> BookingView {
                    try JSONDecoder.iso.decode(
                        BookingView.self,
                        from: try await fixture.send(client, .get, "/api/v1/bookings/\(id)", token: member).1
                    )
                }
                try await waitUntil("the coupon answers are applied") {
                    let confirmed = try await show(booking.id).status == "confirmed"
                    let refused = try await show(other.id).status == "refused"
                    return confirmed && refused
                }
                #expect(try await show(other.id).reason == "the coupon expired")
                #expect(try await show(booking.id).orderId != nil)
                #expect(try await fixture.count("SELECT count(*) FROM orders") == 1)
                #expect(try await fixture.published(BookingConfirmed.eventType) == 1)
                #expect(try await fixture.published(BookingRefused.eventType) == 1)

                fixture.clock.advance(by: 11 * 60)
                let otherMember = try await fixture.token(.member, fixture.otherMember)
                try await waitUntil("the unanswered booking expires") {
                    let data = try await fixture.send(client, .get, "/api/v1/bookings/\(late.id)", token: otherMember).1
                    return try JSONDecoder.iso.decode(BookingView.self, from: data).status == "expired"
                }
                // Its cancellation releases the coupon; the confirmed one stays.
                #expect(try await fixture.published(BookingCancelled.eventType) == 1)
                #expect(try await show(booking.id).status == "confirmed")
            }
        }
    }

    @Test("reschedule releases the crew and offers the new time; cancel ends the order and releases the coupon")
    func rescheduleAndCancel() async throws {
        try await DispatchFixture.with(technicians: 2) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let member = try await fixture.token(.member, fixture.member)
                let (_, made) = try await fixture.book(client)
                let booking = try #require(made)
                let orderId = try #require(booking.orderId)
                #expect(try await fixture.act(client, "accept", orderId, as: fixture.technicians[0]) == .ok)

                let (moved, movedData) = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/bookings/\(booking.id)/reschedule",
                    token: member,
                    body: #"{"date": "\#(fixture.visitDay)", "window": "16:00-19:00"}"#
                )
                #expect(moved == .ok)
                #expect(try JSONDecoder.iso.decode(BookingView.self, from: movedData).window == "16:00-19:00")
                // Both seats are offered again for the new time: the one who accepted is asked anew.
                let seats = try await fixture.seats(orderId)
                #expect(Set(seats.values.map(\.0)) == Set(fixture.technicians) && seats.values.allSatisfy { $0.1 == "offered" })
                #expect(try await fixture.published(SeatReleased.eventType) == 2)
                #expect(try await fixture.published(BookingRescheduled.eventType) == 1)

                let (cancelled, cancelledData) = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/bookings/\(booking.id)/cancel",
                    token: member,
                    body: #"{"reason": "We are away that week"}"#
                )
                #expect(cancelled == .ok)
                #expect(try JSONDecoder.iso.decode(BookingView.self, from: cancelledData).status == "cancelled")
                let order = try await fixture.order(client, orderId, as: member)
                #expect(order.status == .cancelled && order.seats.isEmpty)
                #expect(try await fixture.published(ServiceOrderCancelled.eventType) == 1)
                let again = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/bookings/\(booking.id)/cancel",
                    token: member,
                    body: #"{"reason": "twice"}"#
                )
                #expect(again.0 == .conflict)
            }
        }
    }

    @Test("a store sets its own windows: its free slots and bookings follow them")
    func storeWindows() async throws {
        try await DispatchFixture.with(technicians: 2) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let uri = "/api/v1/stores/\(fixture.store)/slot-windows"
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let shown = try await fixture.send(client, .get, uri, token: manager)
                #expect(
                    try JSONDecoder.iso.decode(StoreWindows.View.self, from: shown.1)
                        == .init(storeId: fixture.store, windows: ["09:00-12:00", "13:00-16:00", "16:00-19:00"], own: false)
                )
                let body = #"{"windows": ["14:00-18:00", "10:00-12:00"]}"#
                #expect(try await fixture.send(client, .put, uri, token: try await fixture.token(.guide, fixture.guide), body: body).0 == .forbidden)
                let elsewhere = try await fixture.bed.tokens.sign(
                    subject: "sm-x",
                    role: .storeManager,
                    dealerID: fixture.dealer,
                    storeID: "elsewhere"
                )
                #expect(try await fixture.send(client, .put, uri, token: elsewhere, body: body).0 == .notFound)
                let overlapping = try await fixture.send(client, .put, uri, token: manager, body: #"{"windows": ["10:00-12:00", "11:00-13:00"]}"#)
                #expect(overlapping.0 == .unprocessableContent)
                let set = try await fixture.send(client, .put, uri, token: manager, body: body)
                #expect(try JSONDecoder.iso.decode(StoreWindows.View.self, from: set.1).windows == ["10:00-12:00", "14:00-18:00"])
                let member = try await fixture.token(.member, fixture.member)
                let slots = try JSONDecoder.iso.decode(
                    FreeSlots.self,
                    from: try await fixture.send(client, .get, "/api/v1/slots?serviceType=repair&days=2", token: member).1
                )
                #expect(Set(slots.slots.filter { $0.date == fixture.visitDay }.map(\.window)) == ["10:00-12:00", "14:00-18:00"])
                #expect(try await fixture.book(client, window: "09:00-12:00").0 == .unprocessableContent)
                #expect(try await fixture.book(client, window: "10:00-12:00").0 == .created)
            }
        }
    }

    @Test("bad input names the field; scope keeps bookings and orders to whom they belong")
    func badInputAndScope() async throws {
        try await DispatchFixture.with(technicians: 2) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let member = try await fixture.token(.member, fixture.member)
                let cases: [(String, String)] = [
                    (#"{"serviceType": "no_such", "date": "2030-03-19", "window": "09:00-12:00", "address": "x"}"#, "serviceType"),
                    (#"{"serviceType": "mite_removal", "date": "2030-03-17", "window": "09:00-12:00", "address": "x"}"#, "date"),
                    (#"{"serviceType": "mite_removal", "date": "2030-03-19", "window": "10:00-11:00", "address": "x"}"#, "window"),
                    (#"{"serviceType": "mite_removal", "date": "2030-02-30", "window": "09:00-12:00", "address": "x"}"#, "date"),
                    (#"{"serviceType": "mite_removal", "date": "2030-03-19", "window": "09:00-12:00", "address": " "}"#, "address"),
                ]
                for (body, field) in cases {
                    let (status, data) = try await fixture.send(client, .post, "/api/v1/bookings", token: member, body: body)
                    let problem = try JSONDecoder().decode(ProblemBody.self, from: data)
                    #expect(status == .unprocessableContent && problem.errors?.map(\.field) == [field], "\(field): \(status) \(problem)")
                }
                let forOther = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/bookings",
                    token: member,
                    body:
                        #"{"memberId": "\#(fixture.otherMember)", "serviceType": "repair", "date": "2030-03-19", "window": "09:00-12:00", "address": "x"}"#
                )
                #expect(forOther.0 == .forbidden)

                // The guide books for their member; the member, the guide and the store see it.
                let guide = try await fixture.token(.guide, fixture.guide)
                let (status, data) = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/bookings",
                    token: guide,
                    body:
                        #"{"memberId": "\#(fixture.member)", "serviceType": "mite_removal", "date": "2030-03-19", "window": "09:00-12:00", "address": "x"}"#
                )
                #expect(status == .created)
                let booking = try JSONDecoder.iso.decode(BookingView.self, from: data)
                let orderId = try #require(booking.orderId)
                let otherStore = try await fixture.bed.tokens.sign(
                    subject: "sm-x",
                    role: .storeManager,
                    dealerID: fixture.dealer,
                    storeID: "elsewhere"
                )
                let otherDealer = try await fixture.bed.tokens.sign(subject: "da-x", role: .dealerAdmin, dealerID: "elsewhere", storeID: nil)
                let strangerTech = try await fixture.bed.tokens.sign(
                    subject: "t-x",
                    role: .technician,
                    dealerID: fixture.dealer,
                    storeID: fixture.store
                )
                let readers = [
                    member, guide, try await fixture.token(.storeManager, fixture.manager),
                    try await fixture.token(.dealerAdmin, fixture.dealerAdmin),
                ]
                for token in readers {
                    #expect(try await fixture.send(client, .get, "/api/v1/bookings/\(booking.id)", token: token).0 == .ok)
                    #expect(try await fixture.send(client, .get, "/api/v1/orders/\(orderId)", token: token).0 == .ok)
                }
                for token in [try await fixture.token(.member, fixture.otherMember), otherStore, otherDealer] {
                    #expect(try await fixture.send(client, .get, "/api/v1/bookings/\(booking.id)", token: token).0 == .notFound)
                    #expect(try await fixture.send(client, .get, "/api/v1/orders/\(orderId)", token: token).0 == .notFound)
                }
                #expect(try await fixture.send(client, .get, "/api/v1/orders/\(orderId)", token: strangerTech).0 == .notFound)
                let offered = try await fixture.token(.technician, fixture.technicians[0])
                #expect(try await fixture.send(client, .get, "/api/v1/orders/\(orderId)", token: offered).0 == .ok)
                let listing = try JSONDecoder.iso.decode(
                    OrderListing.self,
                    from: try await fixture.send(client, .get, "/api/v1/orders", token: offered).1
                )
                #expect(listing.orders.map(\.id) == [orderId])
                let empty = try JSONDecoder.iso.decode(
                    OrderListing.self,
                    from: try await fixture.send(client, .get, "/api/v1/orders", token: otherStore).1
                )
                #expect(empty.orders.isEmpty)
            }
        }
    }
}
