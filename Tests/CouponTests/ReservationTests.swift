import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CouponService

/// Free service coupons and dispatch's events, played by the test as dispatch would publish
/// them: reserved for a booking or refused with the reason, consumed when the visit is
/// completed (also after the coupon expired), released when the booking ends otherwise, and
/// a redelivered event changes nothing.
@Suite("Coupons reserved for booked visits", .timeLimit(.minutes(4)))
struct ReservationTests {
    func booking(_ fixture: CouponFixture, code: String, type: String = "mite_removal", member: String? = nil) -> BookingRequested {
        BookingRequested(
            bookingId: UUID(),
            orderId: nil,
            memberId: member ?? fixture.member,
            storeId: fixture.store,
            dealerId: fixture.dealer,
            serviceType: type,
            startsAt: fixture.clock.now().addingTimeInterval(86400),
            couponCode: code,
            actorId: member ?? fixture.member,
            reason: nil
        )
    }

    func answers(_ fixture: CouponFixture, _ booking: UUID, _ type: String) async throws -> Int {
        try await fixture.count(
            "SELECT count(*) FROM outbox WHERE event_type = '\(type)' AND envelope::jsonb #>> '{payload,bookingId}' = '\(booking.lowercasedString)'"
        )
    }

    func refusal(_ fixture: CouponFixture, _ booking: UUID) async throws -> String? {
        let rows = try await fixture.database.query(
            "SELECT envelope::jsonb #>> '{payload,reason}' FROM outbox WHERE event_type = \(CouponReservationRefused.eventType) AND envelope::jsonb #>> '{payload,bookingId}' = \(booking.lowercasedString)",
            logger: TestEnvironment.logger
        ).collect()
        return try rows.first?.decode(String?.self) ?? nil
    }

    @Test("a booking reserves the coupon once, however often it is delivered; completing the visit consumes it, even once expired")
    func reservedAndConsumed() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let coupon = try await fixture.coupon(
                    client,
                    #""name": "Mite removal", "kind": "free_service", "serviceType": "mite_removal", "validDays": 30"#
                )
                let bus = BusStandIn(broker: fixture.bed.configuration.broker)
                let request = booking(fixture, code: coupon.code.lowercased())
                let event = try BusStandIn.event(request, aggregate: "booking-\(request.bookingId)", producer: "dispatch")
                try await bus.publish([event, event], producer: "dispatch")
                try await waitUntil("the reservation") { try await answers(fixture, request.bookingId, CouponReserved.eventType) == 1 }
                #expect(try await fixture.status(of: coupon.code) == "reserved")
                // The same booking asked again (a new event) gets the same answer; another booking is refused.
                try await bus.publish([request], aggregate: "booking-\(request.bookingId)", producer: "dispatch")
                let rival = booking(fixture, code: coupon.code)
                try await bus.publish([rival], aggregate: "booking-\(rival.bookingId)", producer: "dispatch")
                try await waitUntil("the rival is refused") { try await refusal(fixture, rival.bookingId) != nil }
                #expect(try await refusal(fixture, rival.bookingId) == "the coupon is reserved for another booking")
                // Events of two bookings may be handled in either order: the rival's answer says
                // nothing of whether the repeated request has been answered yet.
                try await waitUntil("the repeated booking answered") { try await answers(fixture, request.bookingId, CouponReserved.eventType) == 2 }
                // The answer carries the code as the booking wrote it.
                #expect(
                    try await fixture.count(
                        "SELECT count(*) FROM outbox WHERE envelope::jsonb #>> '{payload,couponCode}' = '\(coupon.code.lowercased())'"
                    ) == 2
                )

                fixture.clock.advance(by: 40 * 86400)  // past its validity: the booked visit still honours it
                let completed = ServiceOrderCompleted(
                    orderId: UUID().lowercasedString,
                    memberId: fixture.member,
                    storeId: fixture.store,
                    dealerId: fixture.dealer,
                    serviceType: "mite_removal",
                    technicianIds: ["t-1", "t-2"],
                    completedAt: fixture.clock.now(),
                    bookingId: request.bookingId,
                    couponCode: coupon.code
                )
                try await bus.publish([completed, completed], aggregate: completed.orderId, producer: "dispatch")
                try await waitUntil("the coupon is consumed") { try await fixture.status(of: coupon.code) == "consumed" }
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await fixture.published(CouponConsumed.eventType) == 1)
            }
        }
    }

    @Test("a refused reservation says why: another member's, another service, not a service coupon, expired, unknown")
    func refusals() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let service = try await fixture.coupon(
                    client,
                    #""name": "Mite removal", "kind": "free_service", "serviceType": "mite_removal", "validDays": 5"#
                )
                let gift = try await fixture.coupon(client, #""name": "Gift", "kind": "gift", "gift": "Mug", "validDays": 5"#)
                let cases: [(BookingRequested, String)] = [
                    (booking(fixture, code: service.code, member: fixture.unbound), "the coupon belongs to another member"),
                    (booking(fixture, code: service.code, type: "repair"), "the coupon is for mite_removal, not repair"),
                    (booking(fixture, code: gift.code), "the coupon is not for a free service visit"),
                    (booking(fixture, code: CouponCode.generate()), "no such coupon"),
                ]
                let bus = BusStandIn(broker: fixture.bed.configuration.broker)
                for (request, _) in cases { try await bus.publish([request], aggregate: "booking-\(request.bookingId)", producer: "dispatch") }
                for (request, reason) in cases {
                    try await waitUntil("refused: \(reason)") { try await refusal(fixture, request.bookingId) != nil }
                    #expect(try await refusal(fixture, request.bookingId) == reason)
                }
                fixture.clock.advance(by: 6 * 86400)
                let late = booking(fixture, code: service.code)
                try await bus.publish([late], aggregate: "booking-\(late.bookingId)", producer: "dispatch")
                try await waitUntil("refused: expired") { try await refusal(fixture, late.bookingId) != nil }
                #expect(try await refusal(fixture, late.bookingId)?.hasPrefix("the coupon expired on") == true)
                // Never reserved (the hourly sweep may have marked it expired meanwhile).
                #expect(try await fixture.status(of: service.code) != "reserved")
                #expect(try await fixture.published(CouponReserved.eventType) == 0)
            }
        }
    }

    /// The order of `booking` ending as `Kind` (nobody home, could not complete).
    func orderEnded<Kind: DispatchChangeKind>(_ kind: Kind.Type, _ booking: BookingRequested, reason: String) -> OrderChange<Kind> {
        OrderChange<Kind>(
            orderId: UUID(),
            bookingId: booking.bookingId,
            memberId: booking.memberId,
            storeId: booking.storeId,
            dealerId: booking.dealerId,
            serviceType: booking.serviceType,
            startsAt: booking.startsAt,
            endsAt: booking.startsAt.addingTimeInterval(3600),
            technicianIds: ["t-1", "t-2"],
            couponCode: booking.couponCode,
            actorId: "t-1",
            reason: reason
        )
    }

    @Test("a cancelled booking, nobody home or a visit that could not be completed gives the coupon back")
    func released() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let coupon = try await fixture.coupon(
                    client,
                    #""name": "Mite removal", "kind": "free_service", "serviceType": "mite_removal", "validDays": 30"#
                )
                let bus = BusStandIn(broker: fixture.bed.configuration.broker)
                let endings: [@Sendable (BookingRequested) throws -> BusStandIn.Event] = [
                    { booking in
                        let cancelled = BookingCancelled(
                            bookingId: booking.bookingId,
                            orderId: nil,
                            memberId: booking.memberId,
                            storeId: booking.storeId,
                            dealerId: booking.dealerId,
                            serviceType: booking.serviceType,
                            startsAt: booking.startsAt,
                            couponCode: booking.couponCode,
                            actorId: booking.memberId,
                            reason: "travelling"
                        )
                        return try BusStandIn.event(cancelled, aggregate: "booking-\(booking.bookingId)", producer: "dispatch")
                    },
                    { booking in
                        try BusStandIn.event(orderEnded(OrderNoAccessKind.self, booking, reason: "nobody home"), aggregate: "o", producer: "dispatch")
                    },
                    { booking in
                        let ended = orderEnded(OrderCannotCompleteKind.self, booking, reason: "mattress too wet")
                        return try BusStandIn.event(ended, aggregate: "o", producer: "dispatch")
                    },
                ]
                for (round, ending) in endings.enumerated() {
                    let request = booking(fixture, code: coupon.code)
                    try await bus.publish([request], aggregate: "booking-\(request.bookingId)", producer: "dispatch")
                    try await waitUntil("reserved, round \(round)") { try await fixture.status(of: coupon.code) == "reserved" }
                    let end = try ending(request)
                    try await bus.publish([end, end], producer: "dispatch")  // delivered twice: released once
                    try await waitUntil("released, round \(round)") { try await fixture.status(of: coupon.code) == "active" }
                }
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await fixture.published(CouponReleased.eventType) == 3)
                let (_, data) = try await fixture.send(client, .get, "/api/v1/coupons/\(coupon.code)", token: try await fixture.hq())
                let history = try JSONDecoder.iso.decode(Coupons.Coupon.self, from: data).history?.map(\.kind) ?? []
                let rounds = Array(repeating: [CouponReserved.eventType, CouponReleased.eventType], count: 3).flatMap { $0 }
                #expect(history == [CouponIssued.eventType] + rounds)
            }
        }
    }
}
