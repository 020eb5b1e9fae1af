import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO

@testable import FeedbackService

/// One feedback service on a throw-away database with its own queue name, a business clock
/// moved by hand, and a small organisation (member, guide, store manager, dealer admin)
/// delivered through the bus as membership would publish it. Ids carry a per-test prefix,
/// since every test's queue sees every test's membership events.
struct FeedbackFixture: SendsRequests, Sendable {
    let bed: ServiceTestBed
    var configuration: ServiceConfiguration { bed.configuration }
    var clock: ManualBusinessClock { bed.clock }
    var database: PostgresClient { bed.database }
    var tokens: TokenAuthority { bed.tokens }
    var prefix: String { bed.prefix }

    var member: String { "\(prefix)m-1" }
    var guide: String { "\(prefix)g-1" }
    var manager: String { "\(prefix)sm-1" }
    var dealerAdmin: String { "\(prefix)da-1" }
    var store: String { "\(prefix)s-1" }
    var dealer: String { "\(prefix)d-1" }

    static func with(_ body: @escaping @Sendable (FeedbackFixture) async throws -> Void) async throws {
        try await ServiceTestBed.with(service: "feedback", startingAt: Date(timeIntervalSince1970: 1_900_000_000), consumesEvents: true) { bed in
            try await body(FeedbackFixture(bed: bed))
        }
    }

    func app(settings: FeedbackSettings = FeedbackSettings()) async -> some ApplicationProtocol {
        await buildApplication(configuration: configuration, settings: settings, clock: clock)
    }

    /// Waits until the app is ready (its queue exists), then delivers the organisation.
    func seedOrganisation(_ client: some TestClientProtocol, guideActive: Bool = true, storeHours: BusinessHours? = nil) async throws {
        try await waitReady("feedback", client)
        // As membership's outbox would publish them: an event's aggregate is its staff member
        // or member, carried in the aggregate_id header, so one person's events stay in order.
        var events: [(String, UUID, String, Data)] = []
        func add<P: EventPayload>(_ payload: P, aggregate: String) throws {
            let metadata = EventMetadata(
                eventID: UUID(),
                type: P.eventType,
                schemaVersion: 1,
                occurredAt: Date(),
                producer: "membership",
                correlationID: UUID(),
                causationID: nil,
                aggregateID: aggregate,
                aggregateSequence: Int64(events.count + 1)
            )
            events.append(
                (P.eventType, metadata.eventID, aggregate, try EventCoding.encoder().encode(EventEnvelope(metadata: metadata, payload: payload)))
            )
        }
        try add(
            StoreOpened(storeId: store, dealerId: dealer, name: "Flagship", timeZone: "Asia/Shanghai", businessHours: storeHours),
            aggregate: store
        )
        try add(StaffJoined(staffId: guide, role: .guide, dealerId: dealer, storeId: store), aggregate: guide)
        try add(StaffJoined(staffId: manager, role: .storeManager, dealerId: dealer, storeId: store), aggregate: manager)
        try add(StaffJoined(staffId: dealerAdmin, role: .dealerAdmin, dealerId: dealer, storeId: nil), aggregate: dealerAdmin)
        try add(
            MemberRegistered(
                memberId: member,
                guideId: guide,
                storeId: store,
                dealerId: dealer,
                serviceMessagesConsent: true,
                marketingConsent: false
            ),
            aggregate: member
        )
        if !guideActive { try add(StaffLeft(staffId: guide), aggregate: guide) }
        try await publishRetrying(events.map { (type: $0.0, id: $0.1, aggregate: $0.2, body: $0.3) }, producer: "membership")
        let expectedActive = guideActive ? 3 : 2
        let arrived = try await eventually(timeout: .seconds(20)) {
            // All three are known and the right number active: counting only active ones could
            // pass before the guide's own events (joined, then left) had arrived.
            guard try await count("SELECT count(*) FROM staff WHERE staff_id LIKE '\(prefix)%'") == 3,
                try await count("SELECT count(*) FROM staff WHERE active AND staff_id LIKE '\(prefix)%'") == expectedActive
            else { return false }
            guard try await count("SELECT count(*) FROM stores WHERE store_id = '\(store)'") == 1 else { return false }
            return try await count("SELECT count(*) FROM members WHERE member_id = '\(member)'") == 1
        }
        guard arrived else { throw FixtureError(message: "the membership events did not reach the feedback projections") }
    }

    func token(_ role: Role, _ subject: String, store: String? = nil, dealer: String? = nil) async throws -> String {
        try await tokens.sign(subject: subject, role: role, dealerID: dealer ?? self.dealer, storeID: store ?? self.store)
    }

    func count(_ sql: String) async throws -> Int { try await bed.count(sql) }

    func published(_ type: String) async throws -> Int { try await bed.published(type) }

    func taskLevel() async throws -> (String, String?) {
        try await database.query("SELECT level, assignee_id FROM callback_tasks", logger: TestEnvironment.logger).collect().first?.decode(
            (String, String?).self
        ) ?? ("none", nil)
    }

    /// Moves business time and waits for the worker's next look (it polls at least every second).
    func advance(by seconds: TimeInterval) async throws {
        clock.advance(by: seconds)
        try await Task.sleep(for: .milliseconds(1500))
    }

    func openComplaint(_ client: some TestClientProtocol, key: String? = nil) async throws -> ComplaintDesk.Opened {
        var headers = HTTPFields.bearer(try await token(.member, member, store: nil, dealer: nil))
        if let key { headers[.idempotencyKey] = key }
        let body =
            #"{"channel": "mini_program", "category": "product_quality", "severity": "high", "description": "The mattress sags after two weeks."}"#
        return try await client.execute(uri: "/api/v1/complaints", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            guard response.status == .created else { throw FixtureError(message: "\(response.status): \(String(buffer: response.body))") }
            return try JSONDecoder.iso.decode(ComplaintDesk.Opened.self, from: Data(buffer: response.body))
        }
    }

    /// Publishes events as another service's outbox would (envelope, message id, aggregate
    /// header), in order.
    func publish<P: EventPayload>(_ payloads: [P], aggregate: String, producer: String) async throws {
        try await BusStandIn(broker: configuration.broker).publish(payloads, aggregate: aggregate, producer: producer)
    }

    func publishRetrying(_ events: [(type: String, id: UUID, aggregate: String, body: Data)], producer: String) async throws {
        let events = events.map { BusStandIn.Event(type: $0.type, id: $0.id, aggregate: $0.aggregate, body: $0.body) }
        try await BusStandIn(broker: configuration.broker).publish(events, producer: producer)
    }

    func complaintStatus(_ id: UUID) async throws -> String {
        try await database.query("SELECT status FROM complaints WHERE id = \(id)", logger: TestEnvironment.logger).collect().first?.decode(
            String.self
        ) ?? "none"
    }

}

extension FeedbackFixture {
    func taskLevel(of id: UUID) async throws -> String {
        try await database.query("SELECT level FROM callback_tasks WHERE id = \(id)", logger: TestEnvironment.logger).collect().first?.decode(
            String.self
        ) ?? "none"
    }
}
