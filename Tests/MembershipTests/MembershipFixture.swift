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

@testable import MembershipService

/// One membership service on a throw-away database, with a business clock moved by hand and
/// an organisation created through the API: dealer D with stores S1 (guides G1, G2, manager
/// SM1) and S2 (guide G3), and D's admin DA. Ids carry a per-test prefix.
struct MembershipFixture: Sendable {
    let bed: ServiceTestBed
    var configuration: ServiceConfiguration { bed.configuration }
    var clock: ManualBusinessClock { bed.clock }
    var database: PostgresClient { bed.database }
    var tokens: TokenAuthority { bed.tokens }
    var prefix: String { bed.prefix }

    func id(_ name: String) -> String { "\(prefix)\(name)" }
    var dealer: String { id("d") }
    var store1: String { id("s1") }
    var store2: String { id("s2") }

    /// 2026-06-15 10:00 in Shanghai: well away from the clearing and its grace period.
    static let start = Date(timeIntervalSince1970: 1_781_488_800)

    static func with(_ body: @escaping @Sendable (MembershipFixture) async throws -> Void) async throws {
        try await ServiceTestBed.with(service: "membership", startingAt: start, consumesEvents: false) { bed in
            try await body(MembershipFixture(bed: bed))
        }
    }

    func app() async -> some ApplicationProtocol {
        await buildApplication(configuration: configuration, clock: clock)
    }

    /// The repositories' dependencies on the test's own client, for driving the rituals directly.
    var dependencies: MembershipDependencies {
        MembershipDependencies(
            database: database,
            outbox: Outbox(producer: configuration.service.name, logger: TestEnvironment.logger),
            clock: clock,
            calendar: PointsCalendar(),
            pointsPerUnit: 1,
            logger: TestEnvironment.logger
        )
    }

    func token(_ role: Role, _ subject: String, store: String? = nil, dealer: String? = nil) async throws -> String {
        try await tokens.sign(subject: subject, role: role, dealerID: dealer ?? self.dealer, storeID: store)
    }

    var hq: String { get async throws { try await token(.hqAdmin, "hq-1", dealer: "") } }
    func guide(_ name: String, store: String) async throws -> String { try await token(.guide, id(name), store: store) }

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let body: Data
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder.iso.decode(T.self, from: body) }
        var problem: ProblemBody? { try? JSONDecoder().decode(ProblemBody.self, from: body) }
    }

    func call(
        _ client: some TestClientProtocol,
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String,
        body: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = HTTPFields.bearer(token)
        headers.append(contentsOf: extra)
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            Reply(status: response.status, body: Data(buffer: response.body))
        }
    }

    /// Creates the organisation through the API and returns the guides' invite codes.
    @discardableResult
    func seedOrganisation(_ client: some TestClientProtocol) async throws -> [String: String] {
        try await waitReady("membership", client)
        let hq = try await self.hq
        try await expect(.created, call(client, .post, "/api/v1/dealers", token: hq, body: #"{"id": "\#(dealer)", "name": "Dealer"}"#))
        for store in [store1, store2] {
            try await expect(
                .created,
                call(
                    client,
                    .post,
                    "/api/v1/stores",
                    token: hq,
                    body: #"{"id": "\#(store)", "dealerId": "\#(dealer)", "name": "Store", "timeZone": "Asia/Shanghai"}"#
                )
            )
        }
        var codes: [String: String] = [:]
        let staff: [(String, String, String?, String)] = [
            ("g1", "guide", store1, "13800000001"), ("g2", "guide", store1, "13800000002"), ("sm1", "store_manager", store1, "13800000003"),
            ("g3", "guide", store2, "13800000004"), ("da", "dealer_admin", nil, "13800000005"),
        ]
        for (name, role, store, phone) in staff {
            let storeField = store.map { #", "storeId": "\#($0)""# } ?? ""
            let reply = try await call(
                client,
                .post,
                "/api/v1/staff",
                token: hq,
                body: #"{"id": "\#(id(name))", "dealerId": "\#(dealer)", "role": "\#(role)", "name": "\#(name)", "phone": "\#(phone)"\#(storeField)}"#
            )
            try expect(.created, reply)
            codes[name] = try reply.decode(Organisation.StaffMember.self).inviteCode
        }
        return codes
    }

    /// Registers a member through a guide's invite code, as the mini-program backend would.
    func register(_ client: some TestClientProtocol, phone: String, code: String, extra: String = "") async throws -> MemberView {
        let service = try await token(.service, "mini-program", dealer: "")
        let reply = try await call(
            client,
            .post,
            "/api/v1/members",
            token: service,
            body:
                #"{"phone": "\#(phone)", "inviteCode": "\#(code)", "name": "Li Lei", "serviceMessagesConsent": true, "marketingConsent": false\#(extra)}"#
        )
        try expect(.created, reply)
        return try reply.decode(MemberView.self)
    }

    /// `count` members of guide g1, each with one purchase (order `o-<index>`) whose lot
    /// expires at the next clearing; the set-up of the clearing tests.
    func membersWithPurchases(
        _ client: some TestClientProtocol,
        count: Int,
        cents: (Int) -> Int64 = { _ in 10_000 }
    ) async throws {
        let codes = try await seedOrganisation(client)
        let g1 = try await guide("g1", store: store1)
        for index in 0..<count {
            let member = try await register(client, phone: "138111\(String(format: "%05d", index))", code: try #require(codes["g1"]))
            _ = try await purchase(client, member: member.id, order: "o-\(index)", cents: cents(index), token: g1)
        }
    }

    func purchase(_ client: some TestClientProtocol, member: UUID, order: String, cents: Int64, at: Date? = nil, token: String) async throws -> Reply
    {
        let when = at.map { #", "purchasedAt": "\#(ISO8601DateFormatter().string(from: $0))""# } ?? ""
        return try await call(
            client,
            .post,
            "/api/v1/members/\(member)/purchases",
            token: token,
            body: """
                {"orderId": "\(order)", "amountCents": \(cents), "items": [{"sku": "M-1", "category": "mattress", "quantity": 1, "amountCents": \(cents)}]\(when)}
                """
        )
    }

    func count(_ sql: String) async throws -> Int {
        try await database.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger).collect().first?.decode(Int.self) ?? -1
    }

    /// True once every id range of the day's sweep `name` has finished.
    func sweepFinished(_ name: String) async throws -> Bool {
        let parts = DailyRituals(dependencies: dependencies).partitions
        return try await count("SELECT count(*) FROM sweeps WHERE name LIKE '\(name)-p%of\(parts)' AND finished_at IS NOT NULL") == parts
    }

    func published(_ type: String) async throws -> Int {
        try await count("SELECT count(*) FROM outbox WHERE event_type = '\(type)'")
    }

    /// Payloads of one event type from the outbox, oldest first.
    func payloads<P: EventPayload>(_ type: P.Type) async throws -> [P] {
        var result: [P] = []
        for try await envelope in try await database.query(
            "SELECT envelope FROM outbox WHERE event_type = \(P.eventType) ORDER BY position",
            logger: TestEnvironment.logger
        ).decode(String.self) {
            result.append(try EventCoding.decoder().decode(EventEnvelope<P>.self, from: Data(envelope.utf8)).payload)
        }
        return result
    }

    func expect(_ status: HTTPResponse.Status, _ reply: Reply) throws {
        guard reply.status == status else {
            throw FixtureError(message: "expected \(status), got \(reply.status): \(String(decoding: reply.body, as: UTF8.self))")
        }
    }
}

extension DailyRituals {
    /// The clearing step of the clearing day the tests use (1 January 2027, the day after the
    /// default 31 December clearing date).
    func clearingStep(on day: Date = LoyaltyRulesTests.day(2027, 1, 1)) throws -> Step {
        try #require(steps(for: day).first { $0.name.hasPrefix("clearing-") })
    }
}
