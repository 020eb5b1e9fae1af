import AftercareRuntime
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO
import Synchronization

/// Coupons at the brand's scale, against the real `CouponService` executable on a fresh
/// database and the test broker: `members` members over `stores` stores of 20 dealers, and
/// - a campaign of one gift to every member: time to the last batch and the service's peak
///   resident memory while it runs;
/// - desk redemptions of distinct codes with `concurrency` clients, beside a plain
///   single-row `UPDATE … RETURNING` loop on as many connections to the same database, and
///   the HTTP floor (as many requests to `/health/live`);
/// - one hot code contested by `hotAttempts` concurrent redemptions: exactly one success,
///   and the p99 of the refusals.
struct CouponBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coupon",
        abstract: "A campaign to 1.5 million members, desk redemptions/s against a plain UPDATE loop, one hot code."
    )

    @Option(help: "Members in the projection (each gets the campaign's coupon).") var members = 1_500_000
    @Option(help: "Stores (over 20 dealers).") var stores = 200
    @Option(help: "Members a campaign issues to per transaction.") var batch = 500
    @Option(help: "Distinct codes redeemed over HTTP (and as many by the plain loop).") var redemptions = 8_000
    @Option(help: "Concurrent desk clients (and plain-loop connections).") var concurrency = 8
    @Option(help: "Concurrent attempts on one hot code.") var hotAttempts = 1_000

    @Option(help: "Path of the CouponService executable (release build).") var service: String

    func run() async throws {
        try await Bench.withDatabaseURL { client, url in
            let secret = UUID().uuidString + UUID().uuidString
            let port = 18_087
            let extra = ["COUPON_CAMPAIGN_BATCH_SIZE": String(batch), "COUPON_LOOKUP_FAILURES_ALLOWED": "10000"]
            let process = try Bench.startService(service, url: url, port: port, secret: secret, extra: extra)
            defer { Bench.stop(process) }
            let http = HTTPClient.shared
            let base = "http://127.0.0.1:\(port)"
            try await Bench.waitUntilReady(http, base)
            try await seed(client)
            let tokens = await TokenAuthority(settings: try JWTSettings(secret: secret, issuer: "aftercare", audience: "aftercare"))
            let hq = try await tokens.sign(subject: "bench-hq", role: .hqAdmin, validFor: .seconds(7200))

            // 1. A campaign of one gift to every member.
            let startKiB = Bench.residentKiB(process.processIdentifier)
            let template = try await Self.id(
                Bench.postReading(
                    http,
                    "\(base)/api/v1/coupon-templates",
                    token: hq,
                    body: #"{"name": "Bench gift", "kind": "gift", "gift": "Mug", "validDays": 30}"#
                )
            )
            let began = ContinuousClock.now
            let campaign = try await Self.id(
                Bench.postReading(http, "\(base)/api/v1/campaigns", token: hq, body: #"{"name": "Everyone", "templateId": "\#(template)"}"#)
            )
            var peakKiB = startKiB
            var progress: [String: Any] = [:]
            try await Bench.waitFor("the campaign to \(members) members", timeout: .seconds(3600)) {
                peakKiB = max(peakKiB, Bench.residentKiB(process.processIdentifier))
                progress = try await Self.read(http, "\(base)/api/v1/campaigns/\(campaign)", token: hq)
                try await Task.sleep(for: .milliseconds(400))
                return progress["status"] as? String != "running"
            }
            let campaignTime = ContinuousClock.now - began
            guard progress["status"] as? String == "finished", progress["issued"] as? Int == members else {
                throw ValidationErrorMessage("the campaign ended as \(progress)")
            }

            // The campaign's events leave through the outbox; the desk is measured once they have.
            try await Bench.waitFor("the campaign's events published", timeout: .seconds(3600)) {
                try await Task.sleep(for: .milliseconds(500))
                return try await Bench.count(client, "SELECT count(*) FROM outbox_pending") == 0
            }
            let drainTime = ContinuousClock.now - began

            // 2. Distinct codes at the desk, and the plain loop on others.
            let codes = try await Self.codes(client, count: 2 * redemptions + 1)
            var signed: [String: String] = [:]
            for store in Set(codes.map(\.store)) {
                let dealer = "bench-d-\((Int(store.dropFirst("bench-s-".count)) ?? 0) % 20)"
                signed[store] = try await tokens.sign(
                    subject: "bench-sm-\(store)",
                    role: .storeManager,
                    dealerID: dealer,
                    storeID: store,
                    validFor: .seconds(7200)
                )
            }
            let managers = signed
            let desk = Array(codes[0..<redemptions])
            let pid = process.processIdentifier
            let beforeDesk = CPUUse.now(service: pid)
            let (deskTime, deskTimes) = try await lanes(desk, concurrency) { coupon in
                let token = managers[coupon.store] ?? hq
                let status = try await Bench.post(
                    http,
                    "\(base)/api/v1/coupons/\(coupon.code)/redeem",
                    token: token,
                    body: #"{"memberId": "\#(coupon.member)"}"#
                )
                guard status == 200 else { throw ValidationErrorMessage("a desk redemption answered \(status)") }
            }
            // The desk's events are published by the time the plain loop starts: their cost is the desk's.
            try await Bench.waitFor("the desk's events published", timeout: .seconds(600)) {
                try await Task.sleep(for: .milliseconds(100))
                return try await Bench.count(client, "SELECT count(*) FROM outbox_pending") == 0
            }
            let deskCPU = CPUUse.now(service: pid).perOperation(since: beforeDesk, operations: redemptions)
            let plain = Array(codes[redemptions..<(2 * redemptions)])
            let beforePlain = CPUUse.now(service: pid)
            let (plainTime, plainTimes) = try await lanes(plain, concurrency) { coupon in
                let rows = try await client.query(
                    "UPDATE coupons SET status = 'redeemed', updated_at = now() WHERE code = \(coupon.code) AND status = 'active' RETURNING code",
                    logger: Bench.logger
                ).collect()
                guard rows.count == 1 else { throw ValidationErrorMessage("the plain loop found \(coupon.code) redeemed") }
            }

            let plainCPU = CPUUse.now(service: pid).perOperation(since: beforePlain, operations: redemptions)

            // The floor of any desk request: the same HTTP round trips to a route that does nothing.
            let (floorTime, _) = try await lanes(desk, concurrency) { _ in
                let status = try await Bench.get(http, "\(base)/health/live", token: nil)
                guard status == 200 else { throw ValidationErrorMessage("/health/live answered \(status)") }
            }

            // 3. One hot code, contested.
            let hot = codes[2 * redemptions]
            let (wins, refusals) = try await contest(hot, token: managers[hot.store] ?? hq, base: base)
            let endKiB = Bench.residentKiB(process.processIdentifier)

            let deskRate = Double(messagesPerSecond: redemptions, deskTime)
            let plainRate = Double(messagesPerSecond: redemptions, plainTime)
            Bench.printTable(
                "coupon: \(members) members, \(stores) stores, campaign batches of \(batch)",
                [
                    ("campaign to every member: time", Bench.seconds(campaignTime)),
                    ("campaign coupons per second", Bench.perSecond(members, campaignTime) + " /s"),
                    ("campaign start → its last event published", Bench.seconds(drainTime)),
                    ("service RSS before / peak during campaign / end (MiB)", "\(startKiB / 1024) / \(peakKiB / 1024) / \(endKiB / 1024)"),
                    ("desk redemptions/s (\(concurrency) clients, distinct codes)", String(format: "%.0f /s", deskRate)),
                    ("desk redemption p50 / p99", "\(Bench.percentile(deskTimes, 50)) / \(Bench.percentile(deskTimes, 99))"),
                    ("plain UPDATE … RETURNING/s (\(concurrency) connections)", String(format: "%.0f /s", plainRate)),
                    ("plain UPDATE p50 / p99", "\(Bench.percentile(plainTimes, 50)) / \(Bench.percentile(plainTimes, 99))"),
                    ("desk / plain", String(format: "%.2f", deskRate / plainRate)),
                    ("CPU per desk redemption: service / PostgreSQL / RabbitMQ / bench", CPUUse.describe(deskCPU)),
                    ("CPU per plain UPDATE: service / PostgreSQL / RabbitMQ / bench", CPUUse.describe(plainCPU)),
                    ("cores", "\(ProcessInfo.processInfo.activeProcessorCount)"),
                    ("HTTP floor: GET /health/live/s (\(concurrency) clients)", Bench.perSecond(redemptions, floorTime) + " /s"),
                    ("hot code, \(hotAttempts) attempts: successes / 409s", "\(wins) / \(refusals.count)"),
                    ("hot code refusal p50 / p99", "\(Bench.percentile(refusals, 50)) / \(Bench.percentile(refusals, 99))"),
                ]
            )
            guard wins == 1, refusals.count == hotAttempts - 1 else { throw ValidationErrorMessage("the hot code was redeemed \(wins) times") }
        }
    }

    struct Code: Sendable {
        let code: String
        let member: String
        let store: String
    }

    /// Runs `work` over `items` on `count` lanes; answers the wall time and each item's time, sorted.
    func lanes(_ items: [Code], _ count: Int, _ work: @escaping @Sendable (Code) async throws -> Void) async throws -> (Duration, [Duration]) {
        let began = ContinuousClock.now
        let times = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for lane in 0..<count {
                group.addTask {
                    var times: [Duration] = []
                    for index in stride(from: lane, to: items.count, by: count) {
                        let start = ContinuousClock.now
                        try await work(items[index])
                        times.append(ContinuousClock.now - start)
                    }
                    return times
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return (ContinuousClock.now - began, times.sorted())
    }

    /// `hotAttempts` redemptions of one code at once, over as many connections as the pool
    /// opens: the successes, and the refusals' times sorted.
    func contest(_ coupon: Code, token: String, base: String) async throws -> (Int, [Duration]) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() }
        let outcomes = try await withThrowingTaskGroup(of: (UInt, Duration).self) { group in
            for _ in 0..<hotAttempts {
                group.addTask {
                    let start = ContinuousClock.now
                    let status = try await Bench.post(
                        http,
                        "\(base)/api/v1/coupons/\(coupon.code)/redeem",
                        token: token,
                        body: #"{"memberId": "\#(coupon.member)"}"#
                    )
                    return (status, ContinuousClock.now - start)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        return (outcomes.filter { $0.0 == 200 }.count, outcomes.filter { $0.0 == 409 }.map(\.1).sorted())
    }

    /// What membership's events would have filled: stores of 20 dealers, members spread over them.
    func seed(_ client: PostgresClient) async throws {
        for statement in [
            "INSERT INTO stores (store_id, dealer_id) SELECT 'bench-s-' || n, 'bench-d-' || (n % 20) FROM generate_series(0, \(stores - 1)) AS n",
            """
            INSERT INTO members (member_id, guide_id, store_id, dealer_id)
            SELECT 'bench-m-' || lpad(n::text, 8, '0'), 'bench-g-' || (n % 5000), 'bench-s-' || (n % \(stores)), 'bench-d-' || ((n % \(stores)) % 20)
            FROM generate_series(0, \(members - 1)) AS n
            """,
            "ANALYZE",
        ] {
            try await client.query(PostgresQuery(unsafeSQL: statement), logger: Bench.logger)
        }
    }

    static func codes(_ client: PostgresClient, count: Int) async throws -> [Code] {
        let rows = try await client.query("SELECT code, member_id, store_id FROM coupons ORDER BY code LIMIT \(count)", logger: Bench.logger)
        var codes: [Code] = []
        for try await (code, member, store) in rows.decode((String, String, String).self) {
            codes.append(Code(code: code, member: member, store: store))
        }
        guard codes.count == count else { throw ValidationErrorMessage("only \(codes.count) coupons to redeem") }
        return codes
    }

    static func id(_ answer: (status: UInt, body: ByteBuffer)) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]
        guard [200, 201, 202].contains(answer.status), let id = object?["id"] as? String else {
            throw ValidationErrorMessage("answered \(answer.status): \(String(buffer: answer.body))")
        }
        return id
    }

    static func read(_ http: HTTPClient, _ url: String, token: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
    }
}
