import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DispatchService

/// The due list on a real database, from membership's purchase and tier events and dispatch's
/// own completed visits: who is due or overdue for a recurring service, most overdue first,
/// with what it counts from, whether a booking is open, paged by cursor, within scope.
@Suite("Who is due for a service", .timeLimit(.minutes(3)))
struct ServiceDueTests {
    @Test("purchases and past visits make the due list; the guide sees their members, the store all; a completed visit moves the date")
    func dueList() async throws {
        try await DispatchFixture.with(technicians: 2) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let now = fixture.clock.now()
                let day: TimeInterval = 86400
                let hq = try await fixture.bed.tokens.sign(subject: "hq-1", role: .hqAdmin)
                let sofaCheck =
                    #"{"name": "Sofa check", "durationMinutes": 60, "crewSize": 1, "categories": ["sofa"], "intervalDays": 180, "steps": [{"title": "Inspect"}]}"#
                #expect(try await fixture.send(client, .put, "/api/v1/service-types/sofa_check", token: hq, body: sofaCheck).0 == .created)
                for technician in fixture.technicians { try await fixture.setProfile(client, technician, skills: ["mite_removal", "sofa_check"]) }

                func purchase(_ id: String, _ member: String, _ category: String, daysAgo: Double) -> PurchaseRecorded {
                    PurchaseRecorded(
                        orderId: "\(fixture.prefix)\(id)",
                        memberId: member,
                        storeId: fixture.store,
                        dealerId: fixture.dealer,
                        guideId: nil,
                        amountCents: 100_000,
                        items: [PurchaseItem(sku: "sku-\(category)", category: category, quantity: 1, amountCents: 100_000)],
                        purchasedAt: now.addingTimeInterval(-daysAgo * day),
                        pointsEarned: 100
                    )
                }
                let bus = BusStandIn(broker: fixture.bed.configuration.broker)
                try await bus.publish(
                    [purchase("p-1", fixture.member, "mattress", daysAgo: 400), purchase("p-2", fixture.member, "sofa", daysAgo: 200)],
                    aggregate: fixture.member,
                    producer: "membership"
                )
                try await bus.publish(
                    [purchase("p-3", fixture.otherMember, "mattress", daysAgo: 350)],
                    aggregate: fixture.otherMember,
                    producer: "membership"
                )
                try await bus.publish(
                    [
                        TierChanged(
                            memberId: fixture.otherMember,
                            fromTier: "member",
                            toTier: "gold",
                            reason: "purchase_qualified",
                            qualifyingSpendCents: 500_000
                        )
                    ],
                    aggregate: "tier-\(fixture.otherMember)",
                    producer: "membership"
                )
                try await waitUntil("the purchases and the tier reach dispatch") {
                    let purchases = try await fixture.count("SELECT count(*) FROM purchases WHERE order_id LIKE '\(fixture.prefix)%'")
                    let tiered = try await fixture.count("SELECT count(*) FROM members WHERE tier = 'gold' AND member_id = '\(fixture.otherMember)'")
                    return purchases == 3 && tiered == 1
                }

                func list(_ token: String, _ query: String = "") async throws -> ServiceDue.Page {
                    let (status, data) = try await fixture.send(client, .get, "/api/v1/service-due\(query)", token: token)
                    guard status == .ok else { throw FixtureError(message: "\(status) \(String(decoding: data, as: UTF8.self))") }
                    return try JSONDecoder.iso.decode(ServiceDue.Page.self, from: data)
                }
                let guide = try await fixture.token(.guide, fixture.guide)
                let guideList = try await list(guide)
                #expect(guideList.items.map(\.serviceType) == ["mite_removal", "sofa_check"])
                #expect(
                    guideList.items.map(\.daysOverdue) == [35, 20] && guideList.items.allSatisfy { $0.countsFrom == "purchase" && !$0.bookingOpen }
                )

                let manager = try await fixture.token(.storeManager, fixture.manager)
                let storeList = try await list(manager)
                #expect(storeList.items.map(\.memberId) == [fixture.member, fixture.member, fixture.otherMember])
                #expect(storeList.items.last?.daysOverdue == -15 && storeList.items.last?.tier == "gold")
                let first = try await list(manager, "?limit=2")
                let cursor = try #require(first.nextCursor)
                let second = try await list(manager, "?limit=2&cursor=\(cursor)")
                #expect(first.items + second.items == storeList.items && second.nextCursor == nil)
                #expect(try await fixture.send(client, .get, "/api/v1/service-due?cursor=nonsense", token: manager).0 == .unprocessableContent)
                // Forged cursors whose spend cannot be negated or whose date cannot be encoded.
                for forged in [#""dueAt": 0, "spend": -9223372036854775808"#, #""dueAt": 1e300, "spend": 0"#, #""dueAt": 0, "spend": -1"#] {
                    let json = "{\(forged), \"memberId\": \"\", \"serviceType\": \"\"}"
                    let text = Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    let answer = try await fixture.send(client, .get, "/api/v1/service-due?cursor=\(text)", token: manager)
                    #expect(answer.0 == .unprocessableContent, "\(forged)")
                }
                #expect(try await fixture.send(client, .get, "/api/v1/service-due", token: hq).0 == .unprocessableContent)
                let member = try await fixture.token(.member, fixture.member)
                #expect(try await fixture.send(client, .get, "/api/v1/service-due", token: member).0 == .forbidden)

                // A booking is open for the mite removal; the sofa check is done and moves half a year on.
                #expect(try await fixture.book(client).0 == .created)
                let (_, sofa) = try await fixture.book(client, type: "sofa_check", window: "13:00-16:00")
                let orderId = try #require(sofa?.orderId)
                let technician = try #require(try await fixture.seats(orderId)[1]?.0)
                for verb in ["accept", "en-route", "start"] { #expect(try await fixture.act(client, verb, orderId, as: technician) == .ok) }
                let step = try await fixture.send(
                    client,
                    .put,
                    "/api/v1/orders/\(orderId)/steps/1",
                    token: try await fixture.token(.technician, technician),
                    body: "{}"
                )
                #expect(step.0 == .ok)
                #expect(try await fixture.act(client, "complete", orderId, as: technician) == .ok)
                let after = try await list(guide)
                #expect(after.items.map(\.serviceType) == ["mite_removal"] && after.items.first?.bookingOpen == true)
            }
        }
    }
}
