import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CouponService

/// The hourly expiry timer on a real database: a reminder three days before the end, once;
/// expiry once the end has passed; a coupon reserved for a booked visit left alone.
@Suite("Coupon expiry", .timeLimit(.minutes(4)))
struct ExpiryTests {
    /// The sweep has fired for the business time now: its next timer lies ahead of it.
    func sweepWaits(_ fixture: CouponFixture) async throws -> Bool {
        let rows = try await fixture.database.query(
            "SELECT count(*) FROM scheduled_jobs WHERE kind = \(ExpirySweep.job) AND due_at > \(fixture.clock.now())",
            logger: TestEnvironment.logger
        ).collect()
        return try rows.first?.decode(Int.self) == 1
    }

    @Test("a coupon is reminded once three days before its end and expires after it; a reserved one is honoured")
    func expiry() async throws {
        try await CouponFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let soon = try await fixture.coupon(client, #""name": "Soon", "kind": "gift", "gift": "Mug", "validDays": 2"#)
                let later = try await fixture.coupon(client, #""name": "Later", "kind": "gift", "gift": "Cup", "validDays": 10"#)
                let booked = try await fixture.coupon(
                    client,
                    #""name": "Mite removal", "kind": "free_service", "serviceType": "mite_removal", "validDays": 2"#
                )
                let request = BookingRequested(
                    bookingId: UUID(),
                    orderId: nil,
                    memberId: fixture.member,
                    storeId: fixture.store,
                    dealerId: fixture.dealer,
                    serviceType: "mite_removal",
                    startsAt: fixture.clock.now().addingTimeInterval(5 * 86400),
                    couponCode: booked.code,
                    actorId: fixture.member,
                    reason: nil
                )
                try await BusStandIn(broker: fixture.bed.configuration.broker).publish(
                    [request],
                    aggregate: "booking-\(request.bookingId)",
                    producer: "dispatch"
                )
                try await waitUntil("reserved") { try await fixture.status(of: booked.code) == "reserved" }

                fixture.clock.advance(by: 3601)
                try await waitUntil("the reminder") { try await fixture.published(CouponExpiring.eventType) == 1 }
                // Another hour's firing: nobody is reminded twice.
                fixture.clock.advance(by: 3600)
                try await waitUntil("the next hour's firing") { try await sweepWaits(fixture) }
                #expect(try await fixture.count("SELECT count(*) FROM coupons WHERE reminded_at IS NOT NULL") == 1)
                fixture.clock.advance(by: 2 * 86400)
                try await waitUntil("the first expires") { try await fixture.status(of: soon.code) == "expired" }
                fixture.clock.advance(by: 8 * 86400)
                try await waitUntil("the second expires") { try await fixture.status(of: later.code) == "expired" }
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await fixture.published(CouponExpiring.eventType) == 1)
                #expect(try await fixture.published(CouponExpired.eventType) == 2)
                #expect(try await fixture.status(of: booked.code) == "reserved")
                let (_, data) = try await fixture.send(client, .get, "/api/v1/coupons/\(soon.code)", token: try await fixture.hq())
                #expect(try JSONDecoder.iso.decode(Coupons.Coupon.self, from: data).history?.last?.kind == CouponExpired.eventType)
            }
        }
    }
}
