import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Coupons near and past the end of their validity, on one durable timer per hour: an active
/// coupon gets `coupon.coupon.expiring` once, three days before its end, and becomes
/// `expired` (with `coupon.coupon.expired`) once its end has passed. A coupon reserved for a
/// booked visit is left alone: the visit honours it. Each firing handles a batch of each in
/// its own transaction; a full batch continues at once under the next key, so a campaign's
/// million coupons expiring together never make one long transaction. What was done is on
/// the coupons themselves, so a firing repeated after a crash finds nothing left to do twice.
struct ExpirySweep: Sendable {
    static let job = "coupon.expiry"
    static let reminderLead: TimeInterval = 3 * 86400
    let coupons: Coupons
    let outbox: Outbox
    let logger: Logger
    var batchSize = 500

    struct Payload: Codable, Sendable {
        /// Start of the hour, seconds since 1970.
        let hour: Double
        let continuation: Int?
    }

    /// Schedules the firing of the hour containing `instant` (once per hour and continuation).
    func schedule(hourOf instant: Date, continuation: Int? = nil, on connection: PostgresConnection) async throws {
        let hour = (instant.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        let payload = String(decoding: try JSONEncoder().encode(Payload(hour: hour, continuation: continuation)), as: UTF8.self)
        try await JobScheduler.schedule(
            kind: Self.job,
            dueAt: continuation == nil ? Date(timeIntervalSince1970: hour) : coupons.clock.now(),
            payload: payload,
            uniqueKey: "coupon-expiry-\(Int(hour))" + (continuation.map { "-\($0)" } ?? ""),
            on: connection,
            logger: logger
        )
    }

    func run(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        let payload = try JSONDecoder().decode(Payload.self, from: Data(job.payload.utf8))
        let reminded = try await remind(on: connection)
        let expired = try await expire(on: connection)
        if reminded == batchSize || expired == batchSize {
            try await schedule(hourOf: Date(timeIntervalSince1970: payload.hour), continuation: (payload.continuation ?? 0) + 1, on: connection)
        } else {
            try await schedule(hourOf: coupons.clock.now().addingTimeInterval(3600), on: connection)
        }
    }

    /// Active coupons ending within three days that were not reminded yet.
    func remind(on connection: PostgresConnection) async throws -> Int {
        let now = coupons.clock.now()
        let rows = try await connection.query(
            """
            UPDATE coupons SET reminded_at = \(now) WHERE code IN (
                SELECT code FROM coupons
                WHERE status = 'active' AND reminded_at IS NULL AND valid_until > \(now) AND valid_until <= \(now.addingTimeInterval(Self.reminderLead))
                ORDER BY valid_until LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
            )
            RETURNING \(unescaped: Coupons.columns)
            """,
            logger: logger
        ).collect()
        let found = try rows.map { try Coupons.coupon($0, now: now) }
        let entries = found.map { coupon in
            let event = Coupons.entry(CouponExpiringKind.self, coupon, actor: "coupon", reason: nil)
            return Outbox.Entry(event.payload, aggregateID: event.aggregateID)
        }
        try await outbox.record(batch: entries, on: connection)
        return found.count
    }

    /// Active coupons whose validity has ended: expired, each with its history entry.
    func expire(on connection: PostgresConnection) async throws -> Int {
        let now = coupons.clock.now()
        let rows = try await connection.query(
            """
            UPDATE coupons SET status = 'expired', updated_at = \(now) WHERE code IN (
                SELECT code FROM coupons WHERE status = 'active' AND valid_until <= \(now)
                ORDER BY valid_until LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
            )
            RETURNING \(unescaped: Coupons.columns)
            """,
            logger: logger
        ).collect()
        let found = try rows.map { try Coupons.coupon($0, now: now) }
        guard !found.isEmpty else { return 0 }
        let codes = found.map(\.code)
        try await connection.query(
            """
            INSERT INTO coupon_history (code, at, kind, actor, store_id)
            SELECT code, \(now), \(CouponExpiredKind.eventType), 'coupon', store_id FROM coupons WHERE code = ANY(\(codes))
            """,
            logger: logger
        )
        let entries = found.map { coupon in
            let event = Coupons.entry(CouponExpiredKind.self, coupon, actor: "coupon", reason: nil)
            return Outbox.Entry(event.payload, aggregateID: event.aggregateID)
        }
        try await outbox.record(batch: entries, on: connection)
        return found.count
    }
}

/// Makes sure the current hour's expiry timer exists when the service starts (each firing
/// schedules the next, so this matters on a fresh database or after a long outage), then
/// idles until shutdown.
struct ExpiryStarter: Service {
    let sweep: ExpirySweep
    let database: PostgresClient

    func run() async throws {
        try await database.transaction(logger: sweep.logger) { connection in
            try await sweep.schedule(hourOf: sweep.coupons.clock.now(), on: connection)
        }
        try? await gracefulShutdown()
    }
}
