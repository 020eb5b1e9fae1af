import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import PostgresNIO

extension ComplaintDesk {
    /// The escalation timer of a task fired: if nobody has called back at that rung, move
    /// the task up the ladder, tell everyone, and set the next rung's timer. A timer for a
    /// rung the task already left (or a completed task) does nothing, so a late or repeated
    /// firing cannot escalate twice.
    func escalate(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        let payload = try JSONDecoder().decode(EscalationPayload.self, from: Data(job.payload.utf8))
        // The task (locked), who stands on each rung now and the dealer's deadlines, in one
        // statement: escalations come in bursts, and each round trip counts.
        let rows = try await connection.query(
            """
            SELECT t.level, t.status, c.id, c.member_id, c.store_id, c.dealer_id, g.staff_id, sm.staff_id, da.staff_id,
                   p.guide_seconds, p.store_manager_seconds, p.dealer_admin_seconds
            FROM callback_tasks t
            JOIN complaints c ON c.id = t.complaint_id
            LEFT JOIN members m ON m.member_id = c.member_id
            LEFT JOIN dealer_policies p ON p.dealer_id = c.dealer_id
            LEFT JOIN LATERAL (\(unescaped: Directory.rungSQL(.guide, of: "m.guide_id"))) g ON true
            LEFT JOIN LATERAL (\(unescaped: Directory.rungSQL(.storeManager, of: "COALESCE(m.store_id, c.store_id)"))) sm ON true
            LEFT JOIN LATERAL (\(unescaped: Directory.rungSQL(.dealerAdmin, of: "COALESCE(m.dealer_id, c.dealer_id)"))) da ON true
            WHERE t.id = \(payload.taskId) FOR UPDATE OF t
            """,
            logger: logger
        )
        typealias Row = (String, String, UUID, String, String, String, String?, String?, String?, Int?, Int?, Int?)
        var found: Row?
        for try await row in rows.decode(Row.self) { found = row }
        guard
            let (levelName, status, complaintId, memberId, storeId, dealerId, guide, manager, admin, guideSeconds, managerSeconds, adminSeconds) =
                found,
            status == "open", levelName == payload.level.rawValue, let next = payload.level.next
        else { return }

        let now = clock.now()
        let (level, assignee) = Ladder(guide: guide, storeManager: manager, dealerAdmin: admin).firstStaffed(from: next)
        let policy = policies.policy(guideSeconds: guideSeconds, storeManagerSeconds: managerSeconds, dealerAdminSeconds: adminSeconds)
        let dueAt = policy.deadline(for: level).map { now.addingTimeInterval($0) }
        // Move the task, record the rung climbed and put it on the timeline in one statement.
        // The primary key (task, from level) makes a second escalation of the same rung fail
        // and roll back, whatever happened to the timer.
        try await connection.query(
            """
            WITH moved AS (
                UPDATE callback_tasks SET level = \(level.rawValue), assignee_id = \(assignee), due_at = \(dueAt) WHERE id = \(payload.taskId) RETURNING id
            ), climbed AS (
                INSERT INTO callback_escalations (task_id, from_level, to_level, at)
                SELECT id, \(payload.level.rawValue), \(level.rawValue), \(now) FROM moved RETURNING task_id
            )
            INSERT INTO complaint_timeline (complaint_id, at, kind, actor, detail)
            SELECT \(complaintId), \(now), 'escalated', NULL, \("\(payload.level.rawValue)→\(level.rawValue):\(assignee ?? "desk")") FROM climbed
            """,
            logger: logger
        )
        try await outbox.record(
            CallbackEscalated(
                taskId: payload.taskId,
                complaintId: complaintId,
                memberId: memberId,
                storeId: storeId,
                dealerId: dealerId,
                fromLevel: payload.level,
                toLevel: level,
                assigneeId: assignee,
                dueAt: dueAt
            ),
            aggregateID: "complaint-\(complaintId)",
            on: connection
        )
        if let dueAt { try await scheduleEscalation(taskId: payload.taskId, level: level, dueAt: dueAt, on: connection) }
    }

    struct CallRecord: ValidatedRequest {
        let reached: Bool
        let note: String?
        /// Not reached: when to try again (the service's default when absent).
        let retryInMinutes: Int?

        func validate() -> [FieldProblem] {
            var problems: [FieldProblem] = []
            if (note?.count ?? 0) > 1000 { problems.append(.init(field: "note", message: "must be at most 1000 characters")) }
            if let retryInMinutes, !(1...1440).contains(retryInMinutes) {
                problems.append(.init(field: "retryInMinutes", message: "must be 1 to 1440"))
            }
            if reached, retryInMinutes != nil {
                problems.append(.init(field: "retryInMinutes", message: "only applies when the member was not reached"))
            }
            return problems
        }
    }

    /// The assignee (or anyone above them in scope) records a call. Reached: the task is done,
    /// escalation stops, and whether the five-minute promise was kept is recorded. Not
    /// reached: the attempt is on the timeline and the task stays open (escalation goes on).
    func recordCall(taskId: UUID, _ call: CallRecord, by caller: Principal) async throws -> CallbackTaskView {
        try await transaction { connection in
            let rows = try await connection.query(
                """
                SELECT t.status, t.level, c.id, c.store_id, c.dealer_id, c.opened_at
                FROM callback_tasks t JOIN complaints c ON c.id = t.complaint_id
                WHERE t.id = \(taskId) FOR UPDATE OF t
                """,
                logger: logger
            )
            var found: (String, String, UUID, String, String, Date)?
            for try await row in rows.decode((String, String, UUID, String, String, Date).self) { found = row }
            guard let (status, level, complaintId, storeId, dealerId, openedAt) = found,
                Access.covers(caller, storeId: storeId, dealerId: dealerId)
            else { throw ProblemDetails.notFound("No such callback task.") }
            guard status == "open" else { throw ProblemDetails.conflict("This callback task is already completed.") }
            let now = clock.now()
            if call.reached {
                let metPromise = now.timeIntervalSince(openedAt) <= settings.policy.promise
                try await connection.query(
                    """
                    UPDATE callback_tasks SET status = 'completed', completed_at = \(now), completed_by = \(caller.subject), met_promise = \(metPromise)
                    WHERE id = \(taskId)
                    """,
                    logger: logger
                )
                try await connection.query(
                    "UPDATE complaints SET status = 'called_back' WHERE id = \(complaintId) AND status = 'opened'",
                    logger: logger
                )
                if let current = CallbackLevel(rawValue: level) {
                    try await JobScheduler.cancel(uniqueKey: Self.escalationKey(taskId, current), on: connection, logger: logger)
                }
                try await timeline(complaintId, "called_back", actor: caller.subject, detail: call.note, at: now, on: connection)
                try await outbox.record(
                    CallbackCompleted(
                        taskId: taskId,
                        complaintId: complaintId,
                        level: CallbackLevel(rawValue: level) ?? .hqDesk,
                        calledBackBy: caller.subject,
                        calledBackAt: now,
                        metPromise: metPromise
                    ),
                    aggregateID: "complaint-\(complaintId)",
                    on: connection
                )
                try await JobScheduler.cancel(uniqueKey: Self.retryKey(taskId), on: connection, logger: logger)
            } else {
                // The task stays open and the ladder keeps climbing; the assignee is reminded
                // when the agreed retry time comes.
                let retryAt = now.addingTimeInterval(call.retryInMinutes.map { TimeInterval($0 * 60) } ?? settings.retryAfter)
                try await connection.query(
                    "UPDATE callback_tasks SET retry_at = \(retryAt), failed_attempts = failed_attempts + 1 WHERE id = \(taskId)",
                    logger: logger
                )
                try await JobScheduler.schedule(
                    kind: Self.retryJob,
                    dueAt: retryAt,
                    payload: taskId.uuidString,
                    uniqueKey: Self.retryKey(taskId),
                    replacing: true,
                    on: connection,
                    logger: logger
                )
                try await timeline(complaintId, "call_not_reached", actor: caller.subject, detail: call.note, at: now, on: connection)
            }
            guard let task = try await task(taskId, on: connection) else { throw ProblemDetails.notFound("No such callback task.") }
            return task
        }
    }

    static let retryJob = "feedback.callback.retry"

    static func retryKey(_ taskId: UUID) -> String { "callback-retry-\(taskId)" }

    /// The agreed retry time came for an open task: remind whoever holds it now.
    func remindRetry(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        guard let taskId = UUID(uuidString: job.payload) else { throw FeedbackJobError(detail: "retry job payload is not a task id") }
        let rows = try await connection.query(
            """
            SELECT t.level, t.assignee_id, t.status, t.failed_attempts, c.id, c.member_id, c.store_id, c.dealer_id
            FROM callback_tasks t JOIN complaints c ON c.id = t.complaint_id WHERE t.id = \(taskId)
            """,
            logger: logger
        )
        for try await (level, assignee, status, attempts, complaintId, memberId, storeId, dealerId) in rows.decode(
            (String, String?, String, Int, UUID, String, String, String).self
        ) where status == "open" {
            try await timeline(complaintId, "retry_due", actor: nil, detail: assignee, at: clock.now(), on: connection)
            try await outbox.record(
                CallbackRetryDue(
                    taskId: taskId,
                    complaintId: complaintId,
                    memberId: memberId,
                    storeId: storeId,
                    dealerId: dealerId,
                    level: CallbackLevel(rawValue: level) ?? .hqDesk,
                    assigneeId: assignee,
                    attempts: attempts
                ),
                aggregateID: "complaint-\(complaintId)",
                on: connection
            )
        }
    }
}
