import AftercareContracts
import AftercarePersistence
import Foundation
import Logging
import PostgresNIO

/// The day's member rituals, run by one durable timer per local day (in the brand's time
/// zone): birthday month started and birthday today, points-expiring reminders 30/7/3 days
/// before a clearing, the clearing itself and the yearly tier review on the day after the
/// clearing date.
///
/// Each step is a named sweep over members in id order, done in batches: one batch per
/// firing, in the firing's transaction, with the sweep's progress. An unfinished day
/// schedules its own continuation, a finished one schedules the next day. So a sweep over
/// 1.5 million members never holds one long transaction, resumes where it stopped after a
/// crash, and publishes each member's event exactly once.
struct DailyRituals: Sendable {
    static let job = "membership.daily"
    let context: MembershipContext
    /// Members per firing: set-based statements keep a batch well inside the timer lease.
    var batchSize = 2000

    struct Payload: Codable, Sendable {
        /// Start of the local day, seconds since 1970.
        let day: Double
        let continuation: Int?
    }

    /// Schedules the ritual of the local day containing `instant` (once per day).
    func schedule(dayOf instant: Date, continuation: Int? = nil, on connection: PostgresConnection) async throws {
        let calendar = context.calendar
        let day = calendar.startOfDay(instant)
        let payload = String(decoding: try JSONEncoder().encode(Payload(day: day.timeIntervalSince1970, continuation: continuation)), as: UTF8.self)
        let key = "membership-daily-\(calendar.label(day))" + (continuation.map { "-\($0)" } ?? "")
        try await JobScheduler.schedule(kind: Self.job, dueAt: continuation == nil ? day : context.clock.now(), payload: payload, uniqueKey: key, on: connection, logger: context.logger)
    }

    func run(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        let payload = try JSONDecoder().decode(Payload.self, from: Data(job.payload.utf8))
        let day = Date(timeIntervalSince1970: payload.day)
        var finished = true
        for step in steps(for: day) where finished {
            finished = try await sweep(step, on: connection)
        }
        if finished {
            try await schedule(dayOf: context.calendar.day(after: day), on: connection)
        } else {
            try await schedule(dayOf: day, continuation: (payload.continuation ?? 0) + 1, on: connection)
        }
    }

    struct Step: Sendable {
        let name: String
        /// Processes members after `after` (in id order), at most `limit`; returns the last
        /// member id handled and how many were, or nil when there were none left.
        let batch: @Sendable (_ after: UUID?, _ limit: Int, _ connection: PostgresConnection) async throws -> (UUID, Int)?
    }

    func steps(for day: Date) -> [Step] {
        let calendar = context.calendar
        let parts = calendar.calendar.dateComponents([.year, .month, .day], from: day)
        let (year, month, dayOfMonth) = (parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        var steps: [Step] = []
        if dayOfMonth == 1 {
            steps.append(Step(name: "birthday-month-\(calendar.label(day).prefix(7))") { after, limit, connection in
                try await birthdayMonth(year: year, month: month, after: after, limit: limit, on: connection)
            })
        }
        steps.append(Step(name: "birthday-today-\(calendar.label(day))") { after, limit, connection in
            try await birthdayToday(day, year: year, after: after, limit: limit, on: connection)
        })
        if let (clearing, days) = calendar.reminder(on: day) {
            steps.append(Step(name: "expiring-\(calendar.label(clearing))-\(days)") { after, limit, connection in
                try await remindExpiring(clearing: clearing, daysBefore: days, after: after, limit: limit, on: connection)
            })
        }
        if calendar.isClearingDay(day) {
            steps.append(Step(name: "clearing-\(calendar.label(day))") { after, limit, connection in
                try await clear(at: day, after: after, limit: limit, on: connection)
            })
            steps.append(Step(name: "tier-review-\(calendar.label(day))") { after, limit, connection in
                try await reviewTiers(after: after, limit: limit, on: connection)
            })
        }
        return steps
    }

    /// Runs one batch of a sweep; true when the sweep is complete.
    func sweep(_ step: Step, on connection: PostgresConnection) async throws -> Bool {
        var last: UUID?
        for try await (finishedAt, lastMember) in try await connection.query(
            "SELECT finished_at, last_member_id FROM sweeps WHERE name = \(step.name) FOR UPDATE", logger: context.logger
        ).decode((Date?, UUID?).self) {
            if finishedAt != nil { return true }
            last = lastMember
        }
        let result = try await step.batch(last, batchSize, connection)
        let done = (result?.1 ?? 0) < batchSize
        try await connection.query(
            """
            INSERT INTO sweeps (name, finished_at, last_member_id, processed) VALUES (\(step.name), \(done ? context.clock.now() : nil), \(result?.0 ?? last), \(result?.1 ?? 0))
            ON CONFLICT (name) DO UPDATE SET finished_at = EXCLUDED.finished_at, last_member_id = EXCLUDED.last_member_id,
                processed = sweeps.processed + EXCLUDED.processed
            """,
            logger: context.logger
        )
        if done { context.logger.info("sweep finished", metadata: ["sweep": "\(step.name)"]) }
        return done
    }

    static let nilMember = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
}
