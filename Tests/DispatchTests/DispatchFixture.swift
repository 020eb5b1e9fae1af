import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO

@testable import DispatchService

/// One dispatch service on a throw-away database with its own queue, a business clock moved
/// by hand (Monday 2030-03-18, 01:46 in Shanghai, where the store is), and an organisation
/// delivered through the bus as membership would publish it: a store, its guide and manager,
/// the dealer's admin, technicians with a profile for mite removal in the store's territory,
/// and a member of the guide. Ids carry a per-test prefix: every test's queue sees every
/// test's membership events.
struct DispatchFixture: SendsRequests, Sendable {
    let bed: ServiceTestBed
    let technicianCount: Int
    var clock: ManualBusinessClock { bed.clock }
    var database: PostgresClient { bed.database }
    var prefix: String { bed.prefix }

    var member: String { "\(prefix)m-1" }
    var otherMember: String { "\(prefix)m-2" }
    var guide: String { "\(prefix)g-1" }
    var manager: String { "\(prefix)sm-1" }
    var dealerAdmin: String { "\(prefix)da-1" }
    var store: String { "\(prefix)s-1" }
    var dealer: String { "\(prefix)d-1" }
    var technicians: [String] { (1...technicianCount).map { "\(prefix)t-\($0)" } }
    /// Tuesday, the day after the clock's start in the store's time zone.
    let visitDay = "2030-03-19"

    static func with(technicians: Int = 4, _ body: @escaping @Sendable (DispatchFixture) async throws -> Void) async throws {
        try await ServiceTestBed.with(service: "dispatch", startingAt: Date(timeIntervalSince1970: 1_900_000_000), consumesEvents: true) { bed in
            try await body(DispatchFixture(bed: bed, technicianCount: technicians))
        }
    }

    func app(settings: DispatchSettings = DispatchSettings()) async -> some ApplicationProtocol {
        await buildApplication(configuration: bed.configuration, settings: settings, clock: clock)
    }

    func token(_ role: Role, _ subject: String) async throws -> String {
        try await bed.tokens.sign(subject: subject, role: role, dealerID: dealer, storeID: role == .dealerAdmin || role == .member ? nil : store)
    }

    /// Waits until the app is ready, delivers the organisation, and gives every technician a
    /// profile (all seven days 08:00–20:00, three visits a day, mite removal and repair).
    func seed(_ client: some TestClientProtocol) async throws {
        try await waitReady("dispatch", client)
        let bus = BusStandIn(broker: bed.configuration.broker)
        var events = [
            try BusStandIn.event(
                StoreOpened(storeId: store, dealerId: dealer, name: "Flagship", timeZone: "Asia/Shanghai", businessHours: nil),
                aggregate: store,
                producer: "membership"
            )
        ]
        for (id, role) in [(guide, StaffRole.guide), (manager, .storeManager), (dealerAdmin, .dealerAdmin)] {
            events.append(
                try BusStandIn.event(
                    StaffJoined(staffId: id, role: role, dealerId: dealer, storeId: role == .dealerAdmin ? nil : store),
                    aggregate: id,
                    producer: "membership"
                )
            )
        }
        for (index, id) in technicians.enumerated() {
            let joined = StaffJoined(
                staffId: id,
                role: .technician,
                dealerId: dealer,
                storeId: store,
                phone: "+86139000000\(index)",
                name: "Tech \(index + 1)"
            )
            events.append(try BusStandIn.event(joined, aggregate: id, producer: "membership"))
        }
        for id in [member, otherMember] {
            let registered = MemberRegistered(
                memberId: id,
                guideId: id == member ? guide : nil,
                storeId: store,
                dealerId: dealer,
                serviceMessagesConsent: true,
                marketingConsent: false,
                phone: "+8613800001234",
                name: "Li Wei"
            )
            events.append(try BusStandIn.event(registered, aggregate: id, producer: "membership"))
        }
        try await bus.publish(events, producer: "membership")
        try await waitUntil("the organisation reached dispatch", timeout: .seconds(20)) {
            let technicians = try await count("SELECT count(*) FROM technicians WHERE technician_id LIKE '\(prefix)%'")
            let members = try await count("SELECT count(*) FROM members WHERE member_id LIKE '\(prefix)%'")
            let stores = try await count("SELECT count(*) FROM stores WHERE store_id = '\(store)'")
            return technicians == technicianCount && members == 2 && stores == 1
        }
        for id in technicians { try await setProfile(client, id) }
    }

    func setProfile(
        _ client: some TestClientProtocol,
        _ id: String,
        skills: [String] = ["mite_removal", "repair"],
        daysOff: [String] = [],
        from: String = "08:00",
        visitsPerDay: Int = 3
    ) async throws {
        let hours = (1...7).map { #"{"weekday": \#($0), "from": "\#(from)", "to": "20:00"}"# }.joined(separator: ", ")
        let skillList = skills.map { "\"\($0)\"" }.joined(separator: ", ")
        let days = daysOff.map { "\"\($0)\"" }.joined(separator: ", ")
        let body =
            #"{"skills": [\#(skillList)], "territory": ["\#(store)"], "hours": [\#(hours)], "daysOff": [\#(days)], "visitsPerDay": \#(visitsPerDay)}"#
        let (status, data) = try await send(
            client,
            .put,
            "/api/v1/technicians/\(id)/profile",
            token: try await token(.dealerAdmin, dealerAdmin),
            body: body
        )
        guard status == .ok else { throw FixtureError(message: "profile of \(id): \(status) \(String(decoding: data, as: UTF8.self))") }
    }

    /// Books the visit as the member; answers the status and the booking (when created).
    func book(
        _ client: some TestClientProtocol,
        type: String = "mite_removal",
        window: String = "09:00-12:00",
        day: String? = nil,
        coupon: String? = nil,
        as subject: String? = nil,
        key: String? = nil
    )
        async throws -> (HTTPResponse.Status, BookingView?)
    {
        let couponField = coupon.map { #", "couponCode": "\#($0)""# } ?? ""
        let body = #"{"serviceType": "\#(type)", "date": "\#(day ?? visitDay)", "window": "\#(window)", "address": "12 Garden Road"\#(couponField)}"#
        let (status, data) = try await send(
            client,
            .post,
            "/api/v1/bookings",
            token: try await token(.member, subject ?? member),
            body: body,
            key: key
        )
        return (status, status == .created ? try JSONDecoder.iso.decode(BookingView.self, from: data) : nil)
    }

    func order(_ client: some TestClientProtocol, _ id: UUID, as token: String) async throws -> OrderView {
        let (status, data) = try await send(client, .get, "/api/v1/orders/\(id)", token: token)
        guard status == .ok else { throw FixtureError(message: "order \(id): \(status) \(String(decoding: data, as: UTF8.self))") }
        return try JSONDecoder.iso.decode(OrderView.self, from: data)
    }

    /// The technicians an order's seats are offered to or held by, by seat.
    func seats(_ orderId: UUID) async throws -> [Int: (String, String)] {
        let rows = try await database.query(
            "SELECT seat, technician_id, status FROM order_seats WHERE order_id = \(orderId)",
            logger: TestEnvironment.logger
        )
        var seats: [Int: (String, String)] = [:]
        for try await (seat, technician, status) in rows.decode((Int, String, String).self) { seats[seat] = (technician, status) }
        return seats
    }

    func count(_ sql: String) async throws -> Int { try await bed.count(sql) }

    func published(_ type: String) async throws -> Int { try await bed.published(type) }

    func act(
        _ client: some TestClientProtocol,
        _ verb: String,
        _ orderId: UUID,
        as technician: String,
        body: String? = nil
    ) async throws -> HTTPResponse.Status {
        try await send(client, .post, "/api/v1/orders/\(orderId)/\(verb)", token: try await token(.technician, technician), body: body).0
    }
}
