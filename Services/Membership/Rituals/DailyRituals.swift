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
/// Each step is a named sweep over members in id order, done in batches. The members are
/// split into `partitions` id ranges, swept side by side (so the database works on several
/// at once): per firing each range goes from batch to batch for up to `firingBudget`, each
/// batch in its own transaction with that range's progress. The next step starts when
/// every range of this one is done. An unfinished day schedules its own continuation, a
/// finished one schedules the next day.
/// So a sweep over 1.5 million members never holds one long transaction, resumes where it
/// stopped after a crash, and publishes each member's event exactly once. (What keeps an
/// event from repeating is each range's progress row, locked with its batch, not the
/// timer's lease: the ranges commit on their own.)
struct DailyRituals: Sendable {
    static let job = "membership.daily"
    let dependencies: MembershipDependencies
    /// Members per batch: set-based statements keep a batch well inside the timer lease.
    var batchSize = 2000
    /// Id ranges a day's sweeps are split into. A day keeps the count it started with (it is
    /// in the timer's payload and in the sweeps' names), so changing it never repeats a day.
    var partitions = 4
    /// How long one firing goes on sweeping its ranges, well inside the timer's lease; an
    /// unfinished day continues in the next firing.
    var firingBudget: Duration = .seconds(3)

    struct Payload: Codable, Sendable {
        /// Start of the local day, seconds since 1970.
        let day: Double
        let continuation: Int?
        /// Absent in timers from before partitioning: the day is swept as one range.
        let partitions: Int?
    }

    /// Schedules the ritual of the local day containing `instant` (once per day).
    func schedule(dayOf instant: Date, continuation: Int? = nil, partitions: Int? = nil, on connection: PostgresConnection) async throws {
        let calendar = dependencies.calendar
        let day = calendar.startOfDay(instant)
        let payload = String(
            decoding: try JSONEncoder().encode(
                Payload(day: day.timeIntervalSince1970, continuation: continuation, partitions: partitions ?? self.partitions)
            ),
            as: UTF8.self
        )
        let key = "membership-daily-\(calendar.label(day))" + (continuation.map { "-\($0)" } ?? "")
        try await JobScheduler.schedule(
            kind: Self.job,
            dueAt: continuation == nil ? day : dependencies.clock.now(),
            payload: payload,
            uniqueKey: key,
            on: connection,
            logger: dependencies.logger
        )
    }

    func run(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        let payload = try JSONDecoder().decode(Payload.self, from: Data(job.payload.utf8))
        let day = Date(timeIntervalSince1970: payload.day)
        let partitions = payload.partitions ?? 1
        var finished = true
        for step in steps(for: day) where finished {
            finished = try await sweep(step, partitions: partitions, on: connection)
        }
        if finished {
            try await schedule(dayOf: dependencies.calendar.day(after: day), on: connection)
        } else {
            try await schedule(dayOf: day, continuation: (payload.continuation ?? 0) + 1, partitions: partitions, on: connection)
        }
    }

    struct Step: Sendable {
        let name: String
        /// The members this sweep covers; its batches go through them in id order.
        var range = MemberRange.all
        /// Processes members in `range` (in id order), at most `limit`; returns the last
        /// member id handled and how many were, or nil when there were none left.
        let batch: @Sendable (_ range: MemberRange, _ limit: Int, _ connection: PostgresConnection) async throws -> (UUID, Int)?

        /// The same step over the `index`-th of `count` id ranges, as a sweep of its own.
        func part(_ index: Int, of count: Int) -> Step {
            var part = Step(name: "\(name)-p\(index + 1)of\(count)", batch: batch)
            part.range = MemberRange.partitions(count)[index]
            return part
        }
    }

    func steps(for day: Date) -> [Step] {
        let calendar = dependencies.calendar
        let parts = calendar.calendar.dateComponents([.year, .month, .day], from: day)
        let (year, month, dayOfMonth) = (parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        var steps: [Step] = []
        if dayOfMonth == 1 {
            steps.append(
                Step(name: "birthday-month-\(calendar.label(day).prefix(7))") { range, limit, connection in
                    try await birthdayMonth(year: year, month: month, range: range, limit: limit, on: connection)
                }
            )
        }
        steps.append(
            Step(name: "birthday-today-\(calendar.label(day))") { range, limit, connection in
                try await birthdayToday(day, year: year, range: range, limit: limit, on: connection)
            }
        )
        if let (clearing, days) = calendar.reminder(on: day) {
            steps.append(
                Step(name: "expiring-\(calendar.label(clearing))-\(days)") { range, limit, connection in
                    try await remindExpiring(clearing: clearing, daysBefore: days, range: range, limit: limit, on: connection)
                }
            )
        }
        if calendar.isClearingDay(day) {
            steps.append(
                Step(name: "clearing-\(calendar.label(day))") { range, limit, connection in
                    try await clear(at: day, range: range, limit: limit, on: connection)
                }
            )
            steps.append(
                Step(name: "tier-review-\(calendar.label(day))") { range, limit, connection in
                    try await reviewTiers(range: range, limit: limit, on: connection)
                }
            )
        }
        return steps
    }

    /// Runs the step's `partitions` ranges side by side, each batch in its own transaction
    /// with its range's progress, until every range is complete or `firingBudget` has passed
    /// (then each range stops after its current batch); true when all of them are complete.
    /// A range goes on to its next batch without waiting for the others: waiting for the
    /// slowest range after every batch left cores idle.
    func sweep(_ step: Step, partitions: Int, on connection: PostgresConnection) async throws -> Bool {
        guard partitions > 1 else { return try await sweep(step, on: connection) }
        let partitions = min(partitions, MemberRange.maxPartitions)
        let deadline = ContinuousClock.now + firingBudget
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<partitions {
                group.addTask {
                    let part = step.part(index, of: partitions)
                    while true {
                        let done = try await dependencies.transaction { try await sweep(part, on: $0) }
                        if done || ContinuousClock.now >= deadline { return done }
                    }
                }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
    }

    /// Runs one batch of a sweep; true when the sweep is complete.
    func sweep(_ step: Step, on connection: PostgresConnection) async throws -> Bool {
        // The progress row exists before it is locked, so a second firing of the same sweep (a
        // lapsed lease) waits here for the first to commit instead of repeating its batch.
        try await connection.query("INSERT INTO sweeps (name) VALUES (\(step.name)) ON CONFLICT DO NOTHING", logger: dependencies.logger)
        var last: UUID?
        for try await (finishedAt, lastMember) in try await connection.query(
            "SELECT finished_at, last_member_id FROM sweeps WHERE name = \(step.name) FOR UPDATE",
            logger: dependencies.logger
        ).decode((Date?, UUID?).self) {
            if finishedAt != nil { return true }
            last = lastMember
        }
        let result = try await step.batch(MemberRange(after: last ?? step.range.after, last: step.range.last), batchSize, connection)
        let done = (result?.1 ?? 0) < batchSize
        try await connection.query(
            """
            INSERT INTO sweeps (name, finished_at, last_member_id, processed) VALUES (\(step.name), \(done ? dependencies.clock.now() : nil), \(result?.0 ?? last), \(result?.1 ?? 0))
            ON CONFLICT (name) DO UPDATE SET finished_at = EXCLUDED.finished_at, last_member_id = EXCLUDED.last_member_id,
                processed = sweeps.processed + EXCLUDED.processed
            """,
            logger: dependencies.logger
        )
        if done { dependencies.logger.info("sweep finished", metadata: ["sweep": "\(step.name)"]) }
        return done
    }
}

/// Members with ids after `after` up to and including `last`, in PostgreSQL's uuid order
/// (byte by byte).
struct MemberRange: Sendable, Equatable {
    let after: UUID
    let last: UUID

    static let all = MemberRange(after: id(0x00, rest: 0x00), last: id(0xFF, rest: 0xFF))

    /// `count` ranges that together cover every id once, split by the first byte (ids are
    /// random, so the ranges hold about as many members each).
    static let maxPartitions = 256

    static func partitions(_ count: Int) -> [MemberRange] {
        let count = min(max(count, 1), maxPartitions)
        let ends = (1...count).map { UInt8($0 * 256 / count - 1) }
        return ends.indices.map { index in
            MemberRange(after: index == 0 ? all.after : id(ends[index - 1], rest: 0xFF), last: id(ends[index], rest: 0xFF))
        }
    }

    private static func id(_ first: UInt8, rest: UInt8) -> UUID {
        let r = rest
        return UUID(uuid: (first, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r))
    }
}
