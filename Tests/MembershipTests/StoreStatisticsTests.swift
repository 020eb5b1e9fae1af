import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import MembershipService

@Suite("Store statistics on a real PostgreSQL", .timeLimit(.minutes(3)))
struct StoreStatisticsTests {
    @Test("registrations, referrals, member sales and their share of the store's reported sales; corrections replace a day; scope")
    func statistics() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let code = try #require(codes["g1"])
                let first = try await fixture.register(client, phone: "13811114444", code: code)
                let referred = try await fixture.register(client, phone: "13811115555", code: code, extra: #", "referredBy": "\#(first.id)""#)
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                // 15 June at 10:00 in Shanghai, and the next day.
                fixture.clock.advance(by: 2 * 86_400)
                #expect(
                    try await fixture.purchase(client, member: first.id, order: "s-1", cents: 100_000, at: MembershipFixture.start, token: g1).status
                        == .created
                )
                #expect(
                    try await fixture.purchase(
                        client,
                        member: referred.id,
                        order: "s-2",
                        cents: 50_000,
                        at: MembershipFixture.start.addingTimeInterval(86_400),
                        token: g1
                    ).status == .created
                )

                let manager = try await fixture.token(.storeManager, fixture.id("sm1"), store: fixture.store1)
                let report = { (day: String, body: String, token: String) in
                    try await fixture.call(client, .put, "/api/v1/stores/\(fixture.store1)/sales/\(day)", token: token, body: body)
                }
                #expect(try await report("2026-06-15", #"{"totalCents": 400000}"#, manager).status == .ok)
                let june = "/api/v1/stores/\(fixture.store1)/statistics?from=2026-05-31T16:00:00Z&to=2026-06-30T16:00:00Z"
                let stats = try await fixture.call(client, .get, june, token: manager).decode(StoreStatistics.Report.self)
                #expect(stats.membersRegistered == 2 && stats.membersReferred == 1 && stats.referralRate == 0.5)
                #expect(stats.memberPurchases == 2 && stats.memberSalesCents == 150_000)
                // Only 15 June has a store total: the share compares that day's member sales with it.
                #expect(stats.salesDaysReported == 1 && stats.storeSalesCents == 400_000)
                #expect(stats.memberShareOfSales == 0.25)

                #expect(try await report("2026-06-15", #"{"totalCents": 200000}"#, manager).status == .ok)
                let corrected = try await fixture.call(client, .get, june, token: manager).decode(StoreStatistics.Report.self)
                #expect(corrected.memberShareOfSales == 0.5)

                let badDay = try await report("2026-02-30", #"{"totalCents": 1}"#, manager)
                #expect(badDay.problem?.errors?.first?.field == "day")
                let negative = try await report("2026-06-16", #"{"totalCents": -1}"#, manager)
                #expect(negative.problem?.errors?.first?.field == "totalCents")
                let otherManager = try await fixture.token(.storeManager, "other-sm", store: fixture.store2)
                #expect(try await report("2026-06-16", #"{"totalCents": 1}"#, otherManager).status == .notFound)
                #expect(try await fixture.call(client, .get, june, token: otherManager).status == .notFound)
                #expect(try await report("2026-06-16", #"{"totalCents": 1}"#, g1).status == .forbidden)
                let none = try await fixture.call(
                    client,
                    .get,
                    "/api/v1/stores/\(fixture.store2)/statistics?from=2026-05-31T16:00:00Z&to=2026-06-30T16:00:00Z",
                    token: try await fixture.hq
                )
                .decode(StoreStatistics.Report.self)
                #expect(none.memberShareOfSales == nil && none.salesDaysReported == 0)
            }
        }
    }
}
