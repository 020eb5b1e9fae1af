import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO

@testable import CouponService

/// One coupon service on a throw-away database with its own queue, a business clock moved by
/// hand (2030-03-18), and an organisation delivered through the bus as membership would
/// publish it: a dealer with two stores (the second honours only what names it or the whole
/// dealer), another dealer's store, a guide with one bound member, a member without a guide,
/// and another dealer's member. Ids carry a per-test prefix.
struct CouponFixture: SendsRequests, Sendable {
    let bed: ServiceTestBed
    var clock: ManualBusinessClock { bed.clock }
    var database: PostgresClient { bed.database }
    var prefix: String { bed.prefix }

    var member: String { "\(prefix)m-1" }
    var unbound: String { "\(prefix)m-2" }
    var foreigner: String { "\(prefix)m-9" }
    var guide: String { "\(prefix)g-1" }
    var manager: String { "\(prefix)sm-1" }
    var dealerAdmin: String { "\(prefix)da-1" }
    var store: String { "\(prefix)s-1" }
    var secondStore: String { "\(prefix)s-2" }
    var foreignStore: String { "\(prefix)s-9" }
    var dealer: String { "\(prefix)d-1" }
    var foreignDealer: String { "\(prefix)d-9" }

    static func with(settings: CouponSettings = CouponSettings(), _ body: @escaping @Sendable (CouponFixture) async throws -> Void) async throws {
        try await ServiceTestBed.with(service: "coupon", startingAt: Date(timeIntervalSince1970: 1_900_000_000), consumesEvents: true) { bed in
            try await body(CouponFixture(bed: bed))
        }
    }

    func app(settings: CouponSettings = CouponSettings()) async -> some ApplicationProtocol {
        await buildApplication(configuration: bed.configuration, settings: settings, clock: clock)
    }

    /// A token of `role`; staff of the first store unless `store` names another.
    func token(_ role: Role, _ subject: String, store: String? = nil, dealer: String? = nil) async throws -> String {
        let storeID = role == .dealerAdmin || role == .member || role == .hqAdmin ? nil : (store ?? self.store)
        return try await bed.tokens.sign(subject: subject, role: role, dealerID: dealer ?? self.dealer, storeID: storeID)
    }

    func seed(_ client: some TestClientProtocol) async throws {
        try await waitReady("coupon", client)
        var events: [BusStandIn.Event] = []
        for (id, owner) in [(store, dealer), (secondStore, dealer), (foreignStore, foreignDealer)] {
            let opened = StoreOpened(storeId: id, dealerId: owner, name: "Store", timeZone: "Asia/Shanghai", businessHours: nil)
            events.append(try BusStandIn.event(opened, aggregate: id, producer: "membership"))
        }
        for (id, guideId, storeId, dealerId) in [
            (member, Optional(guide), store, dealer), (unbound, nil, store, dealer), (foreigner, nil, foreignStore, foreignDealer),
        ] {
            let registered = MemberRegistered(
                memberId: id,
                guideId: guideId,
                storeId: storeId,
                dealerId: dealerId,
                serviceMessagesConsent: true,
                marketingConsent: false,
                phone: nil,
                name: "Li Wei"
            )
            events.append(try BusStandIn.event(registered, aggregate: id, producer: "membership"))
        }
        try await BusStandIn(broker: bed.configuration.broker).publish(events, producer: "membership")
        try await waitUntil("the organisation reached the coupon service", timeout: .seconds(20)) {
            let members = try await count("SELECT count(*) FROM members WHERE member_id LIKE '\(prefix)%'")
            let stores = try await count("SELECT count(*) FROM stores WHERE store_id LIKE '\(prefix)%'")
            return members == 3 && stores == 3
        }
    }

    /// A template made by HQ (or `as` another caller) from the JSON fields given.
    func template(_ client: some TestClientProtocol, _ fields: String, as token: String? = nil) async throws -> Templates.View {
        let caller = try await hqUnless(token)
        let (status, data) = try await send(client, .post, "/api/v1/coupon-templates", token: caller, body: "{\(fields)}")
        guard status == .created else { throw FixtureError(message: "template: \(status) \(String(decoding: data, as: UTF8.self))") }
        return try JSONDecoder.iso.decode(Templates.View.self, from: data)
    }

    func hq() async throws -> String { try await token(.hqAdmin, "\(prefix)hq-1") }

    func hqUnless(_ token: String?) async throws -> String {
        if let token { return token }
        return try await hq()
    }

    /// Issues `template` to `member`; answers the status and the coupon (when there is one).
    func issue(
        _ client: some TestClientProtocol,
        _ template: UUID,
        to member: String? = nil,
        as token: String? = nil,
        key: String? = nil
    ) async throws -> (HTTPResponse.Status, Coupons.Coupon?) {
        var headers = HTTPFields.bearer(try await hqUnless(token))
        if let key { headers[.idempotencyKey] = key }
        let body = #"{"templateId": "\#(template)", "memberId": "\#(member ?? self.member)"}"#
        return try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            let coupon =
                [.created, .ok].contains(response.status) ? try JSONDecoder.iso.decode(Coupons.Coupon.self, from: Data(buffer: response.body)) : nil
            return (response.status, coupon)
        }
    }

    /// A coupon of a new template with the given fields, issued by HQ to the guide's member.
    func coupon(_ client: some TestClientProtocol, _ fields: String) async throws -> Coupons.Coupon {
        let made = try await template(client, fields)
        guard let coupon = try await issue(client, made.id).1 else { throw FixtureError(message: "no coupon issued") }
        return coupon
    }

    func count(_ sql: String) async throws -> Int { try await bed.count(sql) }

    func published(_ type: String) async throws -> Int { try await bed.published(type) }

    func status(of code: String) async throws -> String {
        let rows = try await database.query("SELECT status FROM coupons WHERE code = \(code)", logger: TestEnvironment.logger).collect()
        return try rows.first?.decode(String.self) ?? "none"
    }
}
