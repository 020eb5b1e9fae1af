import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import MembershipService

@Suite("Membership events reach the broker", .timeLimit(.minutes(3)))
struct MembershipBrokerTests {
    @Test("registration, a purchase and a handover arrive on aftercare.events with the envelope and the documented payloads")
    func eventsOnTheBroker() async throws {
        try await MembershipFixture.with { fixture in
            // A listening queue bound as a consumer of membership events would be.
            let listener = AMQPPublisher(settings: fixture.configuration.broker, name: "listener", logger: TestEnvironment.logger)
            listener.start()
            defer { Task { await listener.shutdown() } }
            #expect(await eventually { listener.isConnected })
            let queue = "test-\(fixture.prefix)membership"
            try await listener.declare(
                AMQPTopology(
                    exchanges: [.init(name: EventBus.exchange, type: "topic")],
                    queues: [.init(name: queue)],
                    bindings: [.init(queue: queue, exchange: EventBus.exchange, routingKey: "membership.#")]
                )
            )
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "13811112222", code: try #require(codes["g1"]))
                let memberId = member.id.uuidString.lowercased()
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                try fixture.expect(
                    .created,
                    try await fixture.purchase(client, member: member.id, order: "\(fixture.prefix)o-1", cents: 600_000, token: g1)
                )
                try fixture.expect(
                    .ok,
                    try await fixture.call(client, .post, "/api/v1/staff/\(fixture.id("g1"))/leave", token: try await fixture.hq, body: "{}")
                )

                let expected = [
                    MemberRegistered.eventType, PurchaseRecorded.eventType, PointsChanged.eventType, TierChanged.eventType,
                    MemberGuideReassigned.eventType,
                ]
                var mine: [AMQPDelivery] = []
                let arrived = try await eventually(timeout: .seconds(20)) {
                    // Delivery is at least once: a relay whose connection dropped after the
                    // broker took a batch publishes it again (consumers' inboxes absorb it).
                    // Count each event once, where it first arrived.
                    var seen = Set<String>()
                    mine = try await listener.peek(queue: queue, limit: 2000)
                        .filter { $0.headers[EventHeader.aggregateID]?.stringValue == "member-\(memberId)" }
                        .filter { seen.insert($0.messageID ?? "").inserted }
                    return mine.count >= expected.count
                }
                #expect(arrived)
                #expect(mine.compactMap(\.type) == expected, "one member's events arrive in the order they happened")
                for delivery in mine {
                    #expect(delivery.routingKey == delivery.type)
                    let metadata = try EventCoding.decoder().decode(EventMetadata.self, from: Data(delivery.body))
                    #expect(metadata.eventID.uuidString.lowercased() == delivery.messageID)
                    #expect(metadata.producer == fixture.configuration.service.name)
                    #expect(metadata.aggregateID == "member-\(memberId)")
                }
                #expect(mine.map { try? EventCoding.decoder().decode(EventMetadata.self, from: Data($0.body)).aggregateSequence } == [1, 2, 3, 4, 5])
                let purchase = try EventCoding.decoder().decode(EventEnvelope<PurchaseRecorded>.self, from: Data(mine[1].body)).payload
                #expect(purchase.amountCents == 600_000)
                #expect(purchase.pointsEarned == 6000)
                #expect(purchase.items.first?.category == "mattress")
                let points = try EventCoding.decoder().decode(EventEnvelope<PointsChanged>.self, from: Data(mine[2].body)).payload
                #expect(
                    points == PointsChanged(memberId: memberId, kind: .earn, delta: 6000, balance: 6000, reference: "purchase:\(fixture.prefix)o-1")
                )
                let tier = try EventCoding.decoder().decode(EventEnvelope<TierChanged>.self, from: Data(mine[3].body)).payload
                #expect(tier.toTier == "silver")
                let handover = try EventCoding.decoder().decode(EventEnvelope<MemberGuideReassigned>.self, from: Data(mine[4].body)).payload
                #expect(
                    handover
                        == MemberGuideReassigned(
                            memberId: memberId,
                            fromGuideId: fixture.id("g1"),
                            toGuideId: fixture.id("g2"),
                            storeId: fixture.store1
                        )
                )
            }
            try await listener.deleteQueue(queue)
        }
    }
}
