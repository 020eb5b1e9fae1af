import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import NotificationService

/// One notification service on a throw-away database with its own queue, a business clock
/// moved by hand (starting at 10:00 in Shanghai, outside quiet hours), and a small
/// organisation delivered through the bus as membership would publish it. Ids carry a
/// per-test prefix, since every test's queue sees every test's events.
struct NotificationFixture: SendsRequests, Sendable {
    let bed: ServiceTestBed
    var configuration: ServiceConfiguration { bed.configuration }
    var clock: ManualBusinessClock { bed.clock }
    var database: PostgresClient { bed.database }
    var tokens: TokenAuthority { bed.tokens }
    var prefix: String { bed.prefix }
    /// The test database's name, for a test that ends its connections.
    var databaseName: String { bed.databaseName }

    /// 2030-03-05 10:00 in Asia/Shanghai.
    static let morning = Date(timeIntervalSince1970: 1_898_906_400)

    var member: String { "\(prefix)m-1" }
    var memberPhone: String { "+86139" + String(prefix.unicodeScalars.map { String($0.value % 10) }.joined().prefix(6)) + "01" }
    var guide: String { "\(prefix)g-1" }
    var manager: String { "\(prefix)sm-1" }
    var store: String { "\(prefix)s-1" }
    var dealer: String { "\(prefix)d-1" }
    var bus: BusStandIn { BusStandIn(broker: configuration.broker) }

    static func with(_ body: @escaping @Sendable (NotificationFixture) async throws -> Void) async throws {
        try await ServiceTestBed.with(service: "notification", startingAt: morning, consumesEvents: true) { bed in
            try await body(NotificationFixture(bed: bed))
        }
    }

    /// Settings for tests: retries one second apart, providers as given.
    static func settings(sms: String? = nil, smsFailover: String? = nil, oa: String? = nil, cap: Int = 2) -> NotificationSettings {
        var settings = NotificationSettings()
        settings.sms = sms.map { ProviderEndpoint(baseURL: $0, apiKey: "test-key") }
        settings.smsFailover = smsFailover.map { ProviderEndpoint(baseURL: $0, apiKey: "test-key-2") }
        settings.officialAccount = oa.map { ProviderEndpoint(baseURL: $0, apiKey: nil) }
        settings.retryBaseSeconds = 1
        settings.maxAttempts = 3
        // The most allowed: under a full run's load a shorter one can time out a healthy local
        // gateway, and the retry would then wait for business time these tests do not move.
        settings.providerTimeout = .seconds(6)
        settings.marketingDailyCap = cap
        return settings
    }

    func app(settings: NotificationSettings = NotificationFixture.settings()) async -> some ApplicationProtocol {
        await buildApplication(configuration: configuration, settings: settings, clock: clock)
    }

    /// Waits until the app is ready (its queue exists), then delivers the organisation: a
    /// store, its guide and manager, and a member of the guide's (consenting to service
    /// messages and, when asked, to marketing).
    func seedOrganisation(_ client: some TestClientProtocol, marketingConsent: Bool = true) async throws {
        try await waitReady("notification", client)
        let events = [
            try BusStandIn.event(
                StoreOpened(storeId: store, dealerId: dealer, name: "Flagship", timeZone: "Asia/Shanghai", businessHours: nil),
                aggregate: store,
                producer: "membership"
            ),
            try BusStandIn.event(
                StaffJoined(staffId: guide, role: .guide, dealerId: dealer, storeId: store, phone: "+8613700000001", name: "Li Na"),
                aggregate: guide,
                producer: "membership"
            ),
            try BusStandIn.event(
                StaffJoined(staffId: manager, role: .storeManager, dealerId: dealer, storeId: store, phone: "+8613700000002", name: "Wang Wei"),
                aggregate: manager,
                producer: "membership"
            ),
            try BusStandIn.event(
                MemberRegistered(
                    memberId: member,
                    guideId: guide,
                    storeId: store,
                    dealerId: dealer,
                    serviceMessagesConsent: true,
                    marketingConsent: marketingConsent,
                    phone: memberPhone,
                    name: "Zhang San"
                ),
                aggregate: member,
                producer: "membership"
            ),
        ]
        try await bus.publish(events, producer: "membership")
        let arrived = try await eventually(timeout: .seconds(20)) {
            guard try await count("SELECT count(*) FROM staff WHERE staff_id LIKE '\(prefix)%'") == 2,
                try await count("SELECT count(*) FROM stores WHERE store_id = '\(store)'") == 1
            else { return false }
            return try await count("SELECT count(*) FROM members WHERE member_id = '\(member)'") == 1
        }
        guard arrived else { throw FixtureError(message: "the membership events did not reach the notification projections") }
    }

    func token(_ role: Role, _ subject: String, store: String? = nil, dealer: String? = nil) async throws -> String {
        try await tokens.sign(subject: subject, role: role, dealerID: dealer ?? self.dealer, storeID: store ?? self.store)
    }

    func count(_ sql: String) async throws -> Int { try await bed.count(sql) }

    /// How many `P` events the service recorded in its outbox about the deliveries of `event`.
    func published<P: EventPayload>(_ type: P.Type, about event: UUID) async throws -> Int {
        try await count(
            "SELECT count(*) FROM outbox WHERE event_type = '\(P.eventType)' AND lower(envelope::jsonb #>> '{payload,eventId}') = '\(event.uuidString.lowercased())'"
        )
    }

    struct Row: Sendable, Equatable {
        let id: UUID
        let recipient: String
        let channel: String
        let status: String
        let reason: String?
        let body: String
        let provider: String?
        let attempts: Int
    }

    /// The deliveries of one event, by recipient and channel.
    func deliveries(of eventId: UUID) async throws -> [Row] {
        let rows = try await database.query(
            "SELECT id, recipient_id, channel, status, reason, body, provider, attempts FROM deliveries WHERE event_id = \(eventId) ORDER BY recipient_id, channel, template_key",
            logger: TestEnvironment.logger
        ).collect()
        return try rows.map { row in
            let (id, recipient, channel, status, reason, body, provider, attempts) = try row.decode(
                (UUID, String, String, String, String?, String, String?, Int).self
            )
            return Row(
                id: id,
                recipient: recipient,
                channel: channel,
                status: status,
                reason: reason,
                body: body,
                provider: provider,
                attempts: attempts
            )
        }
    }

    /// Waits until the event's deliveries satisfy `condition` and returns them; the test
    /// fails, showing the rows, when they never do.
    func waitForDeliveries(
        of eventId: UUID,
        timeout: Duration = .seconds(45),
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: @Sendable ([Row]) -> Bool
    ) async throws -> [Row] {
        let met = try await eventually(timeout: timeout) { condition(try await deliveries(of: eventId)) }
        let rows = try await deliveries(of: eventId)
        if !met { Issue.record("the deliveries of \(eventId) never met the condition: \(rows)", sourceLocation: sourceLocation) }
        return rows
    }

    /// Publishes one event as its producer would and returns its id.
    @discardableResult
    func publish<P: EventPayload>(_ payload: P, aggregate: String, producer: String, id: UUID = UUID()) async throws -> UUID {
        try await bus.publish([try BusStandIn.event(payload, aggregate: aggregate, producer: producer, id: id)], producer: producer)
        return id
    }

    /// Moves business time and waits for the job worker's next look (it polls every second).
    func advance(by seconds: TimeInterval) async throws {
        clock.advance(by: seconds)
        try await Task.sleep(for: .milliseconds(1500))
    }

    func callbackCreated(assignee: String? = nil) -> CallbackCreated {
        CallbackCreated(
            taskId: UUID(),
            complaintId: UUID(),
            memberId: member,
            storeId: store,
            dealerId: dealer,
            level: .guide,
            assigneeId: assignee ?? guide,
            dueAt: NotificationFixture.morning.addingTimeInterval(300),
            category: "product_quality",
            severity: "high"
        )
    }
}
