import AftercareRuntime
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO

/// The membership service at the brand's scale: seeds members (default 1.5 million) with a
/// purchase and a points lot each straight into a fresh database, starts the real
/// `MembershipService` executable on it, and measures over HTTP: lookup by phone (p50/p99)
/// and purchase recording (per second) on a service with nothing else to do. Then two days
/// of rituals over everyone, each timed until its sweeps finished and until the relay had
/// published all their events, sampling the service's resident memory: the 30-day reminder
/// (the service restarted with a clearing 30 days away, the lots expiring then), and the
/// year-end clearing (the lots moved to expire at today's clearing, the service restarted
/// with yesterday as the clearing date).
struct MembershipBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "membership",
        abstract: "Lookup p99, purchases/s, the 30-day reminder and the clearing over N members."
    )

    @Option(help: "Members to seed.") var members = 1_500_000
    @Option(help: "Lookups to time.") var lookups = 5_000
    @Option(help: "Purchases to record.") var purchases = 5_000
    @Option(help: "Concurrent purchase requests.") var concurrency = 8
    @Option(help: "Path of the MembershipService executable (release build).") var service: String

    func run() async throws {
        let zone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: Date())
        let day = { (offset: Int) in calendar.date(byAdding: .day, value: offset, to: today) ?? today.addingTimeInterval(Double(offset) * 86_400) }
        // A clearing is the first instant after its date: yesterday's is now, and the one 30
        // days away (the reminder's) belongs to the date 29 days from now.
        let clearingDate = Self.monthDay(day(-1), calendar)
        let reminded = day(30)
        let reminderDate = Self.monthDay(day(29), calendar)
        // For the lookups and purchases, a clearing date no rule acts on today (no reminder,
        // no clearing), so they are timed on a service doing nothing else.
        let quietDate = Self.monthDay(day(100), calendar)
        try await Bench.withDatabaseURL { client, url in
            let secret = UUID().uuidString + UUID().uuidString
            let port = 18_081
            let http = HTTPClient.shared
            let base = "http://127.0.0.1:\(port)"
            // The first start only migrates the schema.
            let migrating = try start(url: url, port: port, secret: secret, clearingDate: quietDate)
            defer { Bench.stop(migrating) }
            try await Bench.waitUntilReady(http, base)
            Bench.stop(migrating)
            let seeded = try await seed(client, expiring: reminded)
            let tokens = await TokenAuthority(settings: try JWTSettings(secret: secret, issuer: "aftercare", audience: "aftercare"))
            let token = try await tokens.sign(subject: "bench", role: .hqAdmin, validFor: .seconds(7200))
            let guideToken = try await tokens.sign(
                subject: "bench-g",
                role: .guide,
                dealerID: "bench-d",
                storeID: "bench-s",
                validFor: .seconds(7200)
            )

            let quiet = try start(url: url, port: port, secret: secret, clearingDate: quietDate)
            defer { Bench.stop(quiet) }
            try await Bench.waitUntilReady(http, base)
            let latencies = try await timeLookups(http, base, token: token, members: seeded)
            let (purchased, purchasing) = try await recordPurchases(client, http, base, token: guideToken)
            Bench.stop(quiet)

            // Today's ritual ran on each start before; it is reset, and the service started
            // with a clearing date that makes today the day it times. The reminder day is done
            // when it scheduled tomorrow's ritual.
            let label = { (day: Date) in
                String(
                    format: "%04d-%02d-%02d",
                    calendar.component(.year, from: day),
                    calendar.component(.month, from: day),
                    calendar.component(.day, from: day)
                )
            }
            try await resetRituals(client)
            let reminder = try await timeRitual(
                client,
                http,
                base,
                start(url: url, port: port, secret: secret, clearingDate: reminderDate),
                done: "SELECT count(*) FROM scheduled_jobs WHERE unique_key = 'membership-daily-\(label(day(1)))'"
            )
            let remindedMembers = try await Bench.count(
                client,
                "SELECT COALESCE(sum(processed), 0)::int8 FROM sweeps WHERE starts_with(name, 'expiring-\(label(reminded))-30')"
            )

            // The seeded lots now expire at today's clearing. The update moved them around
            // their pages, so the table is rewritten (with its fill factor) and vacuumed, as
            // after seeding: the clearing finds the layout a clearing finds.
            try await resetRituals(client)
            try await client.query("UPDATE points_lots SET expires_at = \(today) WHERE expires_at = \(reminded)", logger: Bench.logger)
            try await client.query("VACUUM FULL points_lots", logger: Bench.logger)
            try await settle(client)
            // The clearing is swept in id ranges (sweeps `clearing-<day>-p1of4` …); the tier
            // review starts once every one of them finished.
            let clearing = try await timeRitual(
                client,
                http,
                base,
                start(url: url, port: port, secret: secret, clearingDate: clearingDate),
                done: """
                    SELECT count(*) FROM sweeps WHERE starts_with(name, 'tier-review-\(label(today))')
                        AND NOT EXISTS (SELECT 1 FROM sweeps WHERE starts_with(name, 'clearing-\(label(today))') AND finished_at IS NULL)
                    """
            )
            let expired = try await Bench.count(client, "SELECT count(*) FROM points_ledger WHERE kind = 'expire'")

            Bench.printTable(
                "membership over \(seeded) members",
                [
                    ("lookup by phone p50", Bench.milliseconds(latencies[latencies.count / 2])),
                    ("lookup by phone p99", Bench.milliseconds(latencies[min(latencies.count - 1, latencies.count * 99 / 100)])),
                    ("purchases recorded (\(concurrency) concurrent)", Bench.perSecond(purchased, purchasing)),
                    ("30-day reminder sweep (\(remindedMembers) members reminded)", Bench.seconds(reminder.swept)),
                    ("… and all its events confirmed by the broker", Bench.seconds(reminder.published)),
                    ("service RSS, reminder start / peak / all published (MiB)", reminder.memory),
                    ("year-end clearing (\(expired) members expired)", Bench.seconds(clearing.swept)),
                    ("… and all its events confirmed by the broker", Bench.seconds(clearing.published)),
                    ("service RSS, clearing start / peak / all published (MiB)", clearing.memory),
                ]
            )
        }
    }

    /// How long a day's rituals took, from the service's start, and its memory meanwhile.
    struct RitualTiming {
        let swept: Duration, published: Duration
        let startKiB: Int, peakKiB: Int, endKiB: Int
        var memory: String { "\(startKiB / 1024) / \(peakKiB / 1024) / \(endKiB / 1024)" }
    }

    /// Runs the started `service` until the query `done` counts something (the day's sweeps
    /// finished), then until the relay published every event, and stops it.
    func timeRitual(_ client: PostgresClient, _ http: HTTPClient, _ base: String, _ service: Process, done: String) async throws -> RitualTiming {
        defer { Bench.stop(service) }
        let started = ContinuousClock.now
        try await Bench.waitUntilReady(http, base)
        var peakKiB = 0
        let startKiB = Bench.residentKiB(service.processIdentifier)
        while try await Bench.count(client, done) == 0 {
            peakKiB = max(peakKiB, Bench.residentKiB(service.processIdentifier))
            try await Task.sleep(for: .milliseconds(500))
        }
        let swept = ContinuousClock.now - started
        // The relay publishes while the sweeps run and catches up after them.
        while try await Bench.count(client, "SELECT count(*) FROM outbox_pending") > 0 {
            peakKiB = max(peakKiB, Bench.residentKiB(service.processIdentifier))
            try await Task.sleep(for: .milliseconds(500))
        }
        let published = ContinuousClock.now - started
        let endKiB = Bench.residentKiB(service.processIdentifier)
        return RitualTiming(
            swept: swept,
            published: published,
            startKiB: startKiB == 0 ? endKiB : startKiB,
            peakKiB: max(peakKiB, endKiB),
            endKiB: endKiB
        )
    }

    /// Forgets the days' rituals (their sweeps, timers and events), so the next start runs
    /// today's again. Each member's event sequence counter stays, as it would in a real
    /// database where every member has had events.
    func resetRituals(_ client: PostgresClient) async throws {
        for reset in ["DELETE FROM sweeps", "DELETE FROM scheduled_jobs", "TRUNCATE outbox, outbox_pending"] {
            try await client.query(PostgresQuery(unsafeSQL: reset), logger: Bench.logger)
        }
    }

    static func monthDay(_ day: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.month, .day], from: day)
        return String(format: "%02d-%02d", parts.month ?? 12, parts.day ?? 31)
    }

    /// Lookups by random phone, one at a time; their latencies, sorted.
    func timeLookups(_ http: HTTPClient, _ base: String, token: String, members seeded: Int) async throws -> [Duration] {
        var latencies: [Duration] = []
        for _ in 0..<lookups {
            let phone = "%2B86139" + String(format: "%08d", Int.random(in: 0..<seeded))
            let began = ContinuousClock.now
            let response = try await Bench.get(http, "\(base)/api/v1/members?phone=\(phone)", token: token)
            latencies.append(ContinuousClock.now - began)
            guard response == 200 else { throw ValidationErrorMessage("lookup answered \(response)") }
        }
        return latencies.sorted()
    }

    /// One purchase each for the first members, `concurrency` requests at a time.
    func recordPurchases(_ client: PostgresClient, _ http: HTTPClient, _ base: String, token: String) async throws -> (Int, Duration) {
        let memberIDs = try await client.query("SELECT id FROM members ORDER BY id LIMIT \(purchases)", logger: Bench.logger).collect().map {
            try $0.decode(UUID.self)
        }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<concurrency {
                group.addTask {
                    for index in stride(from: lane, to: memberIDs.count, by: concurrency) {
                        let body =
                            #"{"orderId": "bench-\#(index)", "amountCents": 129900, "items": [{"sku": "M-1", "category": "mattress", "quantity": 1, "amountCents": 129900}]}"#
                        let status = try await Bench.post(http, "\(base)/api/v1/members/\(memberIDs[index])/purchases", token: token, body: body)
                        guard status == 201 else { throw ValidationErrorMessage("purchase answered \(status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return (memberIDs.count, ContinuousClock.now - started)
    }

    /// Members in one store of one dealer with one guide, each with a purchase 200 days ago
    /// whose points lot expires at `expiring`; 1 in 12 has a birthday this month.
    func seed(_ client: PostgresClient, expiring: Date) async throws -> Int {
        let statements = [
            "INSERT INTO dealers (id, name) VALUES ('bench-d', 'Bench dealer')",
            "INSERT INTO stores (id, dealer_id, name, time_zone) VALUES ('bench-s', 'bench-d', 'Bench store', 'Asia/Shanghai')",
            "INSERT INTO staff (id, dealer_id, store_id, role, name, phone, invite_code, joined_at) VALUES ('bench-g', 'bench-d', 'bench-s', 'guide', 'Guide', '+8613800000000', 'BENCHAAA', now())",
            """
            INSERT INTO members (id, phone, name, birthday_month, birthday_day, service_consent, marketing_consent, guide_id, store_id, dealer_id,
                                 registered_via, tier, points_balance, registered_at, updated_at)
            SELECT gen_random_uuid(), '+86139' || lpad(n::text, 8, '0'), 'Member ' || n, (n % 12 + 1)::smallint, (n % 28 + 1)::smallint, true, n % 3 = 0,
                   'bench-g', 'bench-s', 'bench-d', 'invite_code', 'member', 1000, now() - interval '200 days', now() - interval '200 days'
            FROM generate_series(0, \(members - 1)) AS n
            """,
            """
            INSERT INTO points_lots (member_id, source, points, remaining, earned_at, expires_at)
            SELECT id, 'purchase:seed-' || id, 1000, 1000, now() - interval '200 days', '\(ISO8601DateFormatter().string(from: expiring))'::timestamptz FROM members
            """,
            """
            INSERT INTO purchases (order_id, member_id, store_id, guide_id, amount_cents, items, purchased_at, points_earned, recorded_at, points_lot_id)
            SELECT 'seed-' || member_id, member_id, 'bench-s', 'bench-g', 100000, '[]', now() - interval '200 days', 1000, now() - interval '200 days', id
            FROM points_lots
            """,
            "INSERT INTO points_ledger (member_id, kind, delta, balance_after, reference, at) SELECT id, 'earn', 1000, 1000, 'purchase:seed-' || id, now() - interval '200 days' FROM members",
        ]
        let started = ContinuousClock.now
        for statement in statements { try await client.query(PostgresQuery(unsafeSQL: statement), logger: Bench.logger) }
        try await settle(client)
        FileHandle.standardOutput.write(Data("seeded \(members) members in \(Bench.seconds(ContinuousClock.now - started))\n".utf8))
        return members
    }

    /// Leaves the rows as months-old rows are found: vacuumed (hint bits set, pages
    /// all-visible) and checkpointed. Without this a ritual also paid for the writes before
    /// it (first reads dirtying every page, their checkpoint landing in the middle of it),
    /// more in some runs than others.
    func settle(_ client: PostgresClient) async throws {
        try await client.query("VACUUM (ANALYZE)", logger: Bench.logger)
        do {
            try await client.query("CHECKPOINT", logger: Bench.logger)
        } catch {
            FileHandle.standardError.write(Data("no checkpoint (needs pg_checkpoint, PostgreSQL 15+): \(error)\n".utf8))
        }
    }

    func start(url: String, port: Int, secret: String, clearingDate: String) throws -> Process {
        try Bench.startService(service, url: url, port: port, secret: secret, extra: ["MEMBERSHIP_POINTS_CLEARING_DATE": clearingDate])
    }
}
