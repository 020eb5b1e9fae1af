import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercareRuntime
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Dispatch at the brand's scale, against the real `DispatchService` executable on a fresh
/// database and the test broker: `members` members in the projection (one mattress purchase
/// each) over `stores` stores of 20 dealers, `technicians` technicians serving their dealer's
/// stores, and
/// - the due list of a guide with `guideMembers` members, p50/p99 over `dueReads` reads;
/// - bookings per second with `concurrency` concurrent clients (each booking is offered to
///   a crew of two in the same request);
/// - with `openOffers` open offers lapsing over `spread` seconds, the lag from each expiry to
///   the seat's next offer (`dispatch.offer.made`) on the broker, p50/p99;
/// - the service's resident memory.
struct DispatchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Due list p99 over 1.5 million members, bookings/s, offer-lapse lag with 10,000 open offers."
    )

    @Option(help: "Members in the projection.") var members = 1_500_000
    @Option(help: "Stores (over 20 dealers).") var stores = 200
    @Option(help: "Technicians (over 20 dealers).") var technicians = 1_000
    @Option(help: "Members bound to the measured guide.") var guideMembers = 2_000
    @Option(help: "Due-list reads to time.") var dueReads = 300
    @Option(help: "Bookings to make over HTTP.") var bookings = 2_000
    @Option(help: "Concurrent booking clients.") var concurrency = 8
    @Option(help: "Open offers lapsing during the run.") var openOffers = 10_000
    @Option(help: "Seconds over which those offers lapse.") var spread = 60
    @Option(help: "Path of the DispatchService executable (release build).") var service: String

    static let dealers = 20

    func run() async throws {
        try await Bench.withDatabaseURL { client, url in
            let secret = UUID().uuidString + UUID().uuidString
            let port = 18_086
            let process = try Bench.startService(service, url: url, port: port, secret: secret, extra: ["DISPATCH_BOOKING_HORIZON_DAYS": "120"])
            defer { Bench.stop(process) }
            let http = HTTPClient.shared
            let base = "http://127.0.0.1:\(port)"
            try await Bench.waitUntilReady(http, base)
            let seeding = ContinuousClock.now
            try await seed(client)
            let seeded = ContinuousClock.now - seeding
            let tokens = await TokenAuthority(settings: try JWTSettings(secret: secret, issuer: "aftercare", audience: "aftercare"))
            let guide = try await tokens.sign(
                subject: "bench-g-0",
                role: .guide,
                dealerID: "bench-d-0",
                storeID: "bench-s-0",
                validFor: .seconds(7200)
            )
            let hq = try await tokens.sign(subject: "bench-hq", role: .hqAdmin, validFor: .seconds(7200))
            var startKiB = Bench.residentKiB(process.processIdentifier)

            // 1. The due list of one guide.
            var reads: [Duration] = []
            var listed = 0
            for _ in 0..<dueReads {
                let began = ContinuousClock.now
                let status = try await Bench.get(http, "\(base)/api/v1/service-due?limit=50", token: guide)
                reads.append(ContinuousClock.now - began)
                guard status == 200 else { throw ValidationErrorMessage("the due list answered \(status)") }
                listed += 1
            }
            reads.sort()

            // 2. Bookings over HTTP, each for a member of another store, spread over dealers, days and windows.
            let windows = ["09:00-12:00", "13:00-16:00", "16:00-19:00"]
            let firstDay = Date().addingTimeInterval(2 * 86400)
            let outcomes = Shared<[UInt: Int]>([:])
            let booking = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { lanes in
                for lane in 0..<concurrency {
                    lanes.addTask {
                        for index in stride(from: lane, to: bookings, by: concurrency) {
                            let member = "bench-m-\(guideMembers + index * 7919 % (members - guideMembers))"
                            let day = Self.day(firstDay.addingTimeInterval(Double(index / (windows.count * 40) % 90) * 86400))
                            let body =
                                #"{"memberId": "\#(member)", "serviceType": "mite_removal", "date": "\#(day)", "window": "\#(windows[index % 3])", "address": "Bench road \#(index)"}"#
                            let status = try await Bench.post(http, "\(base)/api/v1/bookings", token: hq, body: body)
                            outcomes.value.withLock { $0[status, default: 0] += 1 }
                        }
                    }
                }
                try await lanes.waitForAll()
            }
            let bookingTime = ContinuousClock.now - booking
            let made = outcomes.value.withLock { $0[201, default: 0] }
            let full = outcomes.value.withLock { $0[409, default: 0] }
            guard made + full == bookings else { throw ValidationErrorMessage("unexpected booking answers: \(outcomes.value.withLock { $0 })") }

            // 3. Open offers lapsing; each timed to the seat's next offer on the broker.
            let seen = Shared<[UUID: Date]>([:])
            let broker = try AMQPSettings(url: try Bench.environment("AFTERCARE_TEST_AMQP_URL"))
            let listener = "bench-dispatch-" + UUID().uuidString.lowercased().prefix(8)
            let topology = EventBus.consumerTopology(service: listener, eventTypes: [OfferMade.eventType], retryDelays: [])
            let consumer = AMQPConsumer(
                settings: broker,
                name: listener,
                queue: EventBus.queue(for: listener),
                prefetch: 1000,
                topology: topology,
                logger: Bench.logger
            ) {
                delivery in
                if let event = try? EventCoding.decoder().decode(EventEnvelope<OfferMade>.self, from: Data(delivery.body)) {
                    let now = Date()
                    seen.value.withLock { $0[event.payload.orderId] = $0[event.payload.orderId] ?? now }
                }
                return .acknowledge
            }
            let group = ServiceGroup(services: [consumer], logger: Bench.logger)
            var peakKiB = startKiB
            let lags: [Duration] = try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                defer { tasks.cancelAll() }
                try await Task.sleep(for: .seconds(2))
                let expiries = try await seedOpenOffers(client, firstExpiry: Date().addingTimeInterval(15))
                try await Bench.waitFor("re-offers of \(expiries.count) lapsed offers", timeout: .seconds(Int64(spread) + 180)) {
                    peakKiB = max(peakKiB, Bench.residentKiB(process.processIdentifier))
                    return seen.value.withLock { arrived in expiries.keys.allSatisfy { arrived[$0] != nil } }
                }
                await group.triggerGracefulShutdown()
                return seen.value.withLock { arrived in
                    expiries.compactMap { order, expiry in arrived[order].map { Bench.duration($0.timeIntervalSince(expiry)) } }
                }
                .sorted()
            }
            try? await Bench.cleanUp(broker: broker, topology: topology)
            let endKiB = Bench.residentKiB(process.processIdentifier)
            if startKiB == 0 { startKiB = endKiB }
            Bench.printTable(
                "dispatch: \(members) members, \(stores) stores, \(technicians) technicians (seeded in \(Bench.seconds(seeded)))",
                [
                    ("due list, guide with \(guideMembers) members, p50", Bench.percentile(reads, 50)),
                    ("due list p99 (\(listed) reads)", Bench.percentile(reads, 99)),
                    ("bookings (\(concurrency) concurrent): made / full", "\(made) / \(full)"),
                    ("bookings per second", Bench.perSecond(bookings, bookingTime) + " /s"),
                    ("offer expiry → next offer p50 (\(openOffers) open)", Bench.percentile(lags, 50)),
                    ("offer expiry → next offer p99", Bench.percentile(lags, 99)),
                    ("offer expiry → next offer max", lags.last.map(Bench.milliseconds) ?? "n/a"),
                    ("service RSS start / peak / end (MiB)", "\(startKiB / 1024) / \(peakKiB / 1024) / \(endKiB / 1024)"),
                ]
            )
        }
    }

    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 2030, parts.month ?? 1, parts.day ?? 1)
    }

    /// What membership's events would have filled: stores of 20 dealers, members spread over
    /// them (the first `guideMembers` bound to guide bench-g-0 at store 0), one mattress
    /// purchase each within the last two years, and technicians with a full-week profile
    /// serving every store of their dealer.
    func seed(_ client: PostgresClient) async throws {
        let dealers = Self.dealers
        let hours = (1...7).map { #"{"weekday": \#($0), "from": "08:00", "to": "20:00"}"# }.joined(separator: ", ")
        for statement in [
            """
            INSERT INTO stores (store_id, dealer_id, name, time_zone)
            SELECT 'bench-s-' || n, 'bench-d-' || (n % \(dealers)), 'Store ' || n, 'Asia/Shanghai' FROM generate_series(0, \(stores - 1)) AS n
            """,
            """
            INSERT INTO members (member_id, guide_id, store_id, dealer_id, tier, tier_spend_cents, name, phone, registered_at)
            SELECT 'bench-m-' || n, CASE WHEN n < \(guideMembers) THEN 'bench-g-0' ELSE 'bench-g-' || (n % 5000 + 1) END,
                   'bench-s-' || CASE WHEN n < \(guideMembers) THEN 0 ELSE n % \(stores) END,
                   'bench-d-' || CASE WHEN n < \(guideMembers) THEN 0 ELSE (n % \(stores)) % \(dealers) END,
                   'member', (n % 7) * 100000, 'Member ' || n, '+86138' || lpad((n % 100000000)::text, 8, '0'), now() - interval '3 years'
            FROM generate_series(0, \(members - 1)) AS n
            """,
            """
            INSERT INTO purchases (order_id, member_id, categories, purchased_at)
            SELECT 'bench-p-' || n, 'bench-m-' || n, '{mattress}', now() - make_interval(days => (n * 37) % 730) FROM generate_series(0, \(members - 1)) AS n
            """,
            """
            INSERT INTO technicians (technician_id, dealer_id, home_store, name, active, skills, territory, hours, visits_per_day)
            SELECT 'bench-t-' || n, 'bench-d-' || (n % \(dealers)), 'bench-s-' || (n % \(stores)), 'Tech ' || n, true, '{mite_removal,repair}',
                   ARRAY(SELECT 'bench-s-' || s FROM generate_series(0, \(stores - 1)) AS s WHERE s % \(dealers) = n % \(dealers)),
                   '[\(hours)]'::jsonb, 6
            FROM generate_series(0, \(technicians - 1)) AS n
            """,
            "ANALYZE",
        ] {
            try await client.query(PostgresQuery(unsafeSQL: statement), logger: Bench.logger)
        }
    }

    /// Orders of a crew of two, one seat accepted and the other offered with its lapse timer,
    /// spread evenly over the dealers' stores and the next 60 days at 09:00 (about eight per
    /// dealer and day, each with technicians of its own); their offers expire one after
    /// another from `firstExpiry` over `spread` seconds. Returns each order's expiry.
    func seedOpenOffers(_ client: PostgresClient, firstExpiry: Date) async throws -> [UUID: Date] {
        let dealers = Self.dealers
        let step = Double(spread) / Double(max(openOffers, 1))
        let first = ISO8601DateFormatter().string(from: firstExpiry)
        for statement in [
            """
            CREATE TEMP TABLE bench_offers AS
            SELECT gen_random_uuid() AS booking_id, gen_random_uuid() AS order_id, gen_random_uuid() AS offer_id, n,
                   n % \(dealers) AS dealer, n / (\(dealers) * 60) AS rank,
                   'bench-s-' || (n % \(dealers) + \(dealers) * ((n / \(dealers)) % \(stores / dealers))) AS store_id, 'bench-d-' || (n % \(dealers)) AS dealer_id,
                   date_trunc('day', now() + make_interval(days => 3 + (n / \(dealers)) % 60)) + interval '1 hour' AS starts_at,
                   '\(first)'::timestamptz + make_interval(secs => n * \(step)) AS expires_at
            FROM generate_series(0, \(openOffers - 1)) AS n
            """,
            """
            INSERT INTO bookings (id, member_id, store_id, dealer_id, service_type, crew_size, day, window_from, window_to, starts_at, ends_at, address,
                                  status, booked_by, created_at, updated_at)
            SELECT booking_id, 'bench-m-' || (\(guideMembers) + n), store_id, dealer_id, 'mite_removal', 2, (starts_at AT TIME ZONE 'Asia/Shanghai')::date,
                   540, 720, starts_at, starts_at + interval '3 hours', 'Bench road', 'confirmed', 'bench', now(), now()
            FROM bench_offers
            """,
            """
            INSERT INTO orders (id, booking_id, member_id, store_id, dealer_id, service_type, definition, status, starts_at, ends_at, address, created_at, updated_at)
            SELECT order_id, booking_id, 'bench-m-' || (\(guideMembers) + n), store_id, dealer_id, 'mite_removal', (SELECT definition FROM service_types WHERE key = 'mite_removal'), 'offered',
                   starts_at, starts_at + interval '3 hours', 'Bench road', now(), now()
            FROM bench_offers
            """,
            """
            INSERT INTO order_seats (order_id, seat, technician_id, status, offer_id, offered_at, expires_at, why)
            SELECT order_id, 1, 'bench-t-' || (dealer + \(dealers) * (2 * rank)), 'offered', offer_id, now(), expires_at, 'bench'
            FROM bench_offers
            """,
            // The other seat is taken: the lapse offers the open one alone.
            """
            INSERT INTO order_seats (order_id, seat, technician_id, status, offer_id, offered_at, expires_at, why)
            SELECT order_id, 2, 'bench-t-' || (dealer + \(dealers) * (2 * rank + 1)), 'accepted', gen_random_uuid(), now(), NULL, 'bench'
            FROM bench_offers
            """,
            """
            INSERT INTO offers_made (order_id, seat, technician_id, round, outcome, at)
            SELECT order_id, seat, technician_id, 0, 'offered', offered_at FROM order_seats WHERE order_id IN (SELECT order_id FROM bench_offers)
            """,
            """
            INSERT INTO scheduled_jobs (kind, unique_key, payload, due_at)
            SELECT 'dispatch.offer.lapse', 'offer-lapse-' || offer_id, json_build_object('orderId', order_id, 'seat', 1, 'offerId', offer_id)::text, expires_at
            FROM bench_offers
            """,
        ] {
            try await client.query(PostgresQuery(unsafeSQL: statement), logger: Bench.logger)
        }
        var expiries: [UUID: Date] = [:]
        let rows = try await client.query("SELECT order_id, expires_at FROM bench_offers", logger: Bench.logger)
        for try await (order, at) in rows.decode((UUID, Date).self) { expiries[order] = at }
        return expiries
    }
}

/// A value the bench's concurrent lanes and its event listener share.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}
