import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import PostgresNIO

/// After the callback: work started, resolved, closed (by the member or after the quiet
/// period), reopened. Each step checks the status under a row lock, goes on the timeline and
/// is published in the same transaction.
extension ComplaintDesk {
    static let closeJob = "feedback.complaint.close"

    struct Note: ValidatedRequest {
        let note: String?
        func validate() -> [FieldProblem] {
            (note?.count ?? 0) > 1000 ? [.init(field: "note", message: "must be at most 1000 characters")] : []
        }
    }

    struct Resolution: ValidatedRequest {
        let resolution: String
        func validate() -> [FieldProblem] {
            let trimmed = resolution.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { return [.init(field: "resolution", message: "must not be empty")] }
            return resolution.count > 2000 ? [.init(field: "resolution", message: "must be at most 2000 characters")] : []
        }
    }

    struct Reopening: ValidatedRequest {
        let reason: String
        func validate() -> [FieldProblem] {
            let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { return [.init(field: "reason", message: "must not be empty")] }
            return reason.count > 1000 ? [.init(field: "reason", message: "must be at most 1000 characters")] : []
        }
    }

    /// A complaint row, locked for the step being taken.
    struct LockedComplaint {
        let id: UUID
        let memberId: String
        let storeId: String
        let dealerId: String
        let status: ComplaintStatus
        let category: String
        let severity: String
        let resolvedAt: Date?
        let closedAt: Date?

        var member: MemberPlacement { MemberPlacement(memberId: memberId, guideId: nil, storeId: storeId, dealerId: dealerId) }
        var aggregate: String { "complaint-\(id)" }
    }

    /// Loads and locks a complaint the caller may act on (staff in scope, a member their own);
    /// anything else reads as not found.
    func lockComplaint(_ id: UUID, for caller: Principal, on connection: PostgresConnection) async throws -> LockedComplaint {
        let rows = try await connection.query(
            """
            SELECT member_id, store_id, dealer_id, status, category, severity, resolved_at, closed_at
            FROM complaints WHERE id = \(id) FOR UPDATE
            """,
            logger: logger
        )
        for try await (memberId, storeId, dealerId, status, category, severity, resolvedAt, closedAt) in rows.decode(
            (String, String, String, String, String, String, Date?, Date?).self
        ) {
            let mine = caller.role == .member ? caller.subject == memberId : Access.covers(caller, storeId: storeId, dealerId: dealerId)
            guard mine, let status = ComplaintStatus(rawValue: status) else { break }
            return LockedComplaint(
                id: id,
                memberId: memberId,
                storeId: storeId,
                dealerId: dealerId,
                status: status,
                category: category,
                severity: severity,
                resolvedAt: resolvedAt,
                closedAt: closedAt
            )
        }
        throw ProblemDetails.notFound("No such complaint.")
    }

    func startWork(on id: UUID, _ note: Note, by caller: Principal) async throws {
        try await transaction { connection in
            let complaint = try await lockComplaint(id, for: caller, on: connection)
            guard complaint.status.allows(.startWork) else { throw ProblemDetails.conflict(complaint.status.refusal(.startWork)) }
            try await connection.query("UPDATE complaints SET status = 'in_progress' WHERE id = \(id)", logger: logger)
            try await timeline(id, "in_progress", actor: caller.subject, detail: note.note, at: clock.now(), on: connection)
        }
    }

    func resolve(_ id: UUID, _ request: Resolution, by caller: Principal) async throws {
        try await transaction { connection in
            let complaint = try await lockComplaint(id, for: caller, on: connection)
            guard complaint.status.allows(.resolve) else { throw ProblemDetails.conflict(complaint.status.refusal(.resolve)) }
            let now = clock.now()
            let closesAt = now.addingTimeInterval(settings.closeAfter)
            try await connection.query(
                "UPDATE complaints SET status = 'resolved', resolution = \(request.resolution), resolved_at = \(now), resolved_by = \(caller.subject) WHERE id = \(id)",
                logger: logger
            )
            try await timeline(id, "resolved", actor: caller.subject, detail: request.resolution, at: now, on: connection)
            try await outbox.record(
                ComplaintResolved(
                    complaintId: id,
                    memberId: complaint.memberId,
                    storeId: complaint.storeId,
                    dealerId: complaint.dealerId,
                    resolution: request.resolution,
                    resolvedBy: caller.subject,
                    resolvedAt: now,
                    closesAt: closesAt
                ),
                aggregateID: complaint.aggregate,
                on: connection
            )
            try await JobScheduler.schedule(
                kind: Self.closeJob,
                dueAt: closesAt,
                payload: id.uuidString,
                uniqueKey: Self.closeKey(id),
                on: connection,
                logger: logger
            )
        }
    }

    /// The member confirms the resolution (or staff record that they did).
    func close(_ id: UUID, by caller: Principal) async throws {
        try await transaction { connection in
            let complaint = try await lockComplaint(id, for: caller, on: connection)
            guard complaint.status.allows(.close) else { throw ProblemDetails.conflict(complaint.status.refusal(.close)) }
            try await JobScheduler.cancel(uniqueKey: Self.closeKey(id), on: connection, logger: logger)
            try await markClosed(complaint, closure: .confirmed, actor: caller.subject, on: connection)
        }
    }

    /// The quiet-period timer: closes the complaint if it is still resolved (a reopen since
    /// makes this a no-op).
    func closeAfterQuietPeriod(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        guard let id = UUID(uuidString: job.payload) else { throw FeedbackJobError(detail: "close job payload is not a complaint id") }
        let complaint = try await lockComplaint(id, for: .feedbackService, on: connection)
        guard complaint.status == .resolved else { return }
        try await markClosed(complaint, closure: .quietPeriod, actor: nil, on: connection)
    }

    private func markClosed(_ complaint: LockedComplaint, closure: ComplaintClosure, actor: String?, on connection: PostgresConnection) async throws {
        let now = clock.now()
        try await connection.query(
            "UPDATE complaints SET status = 'closed', closed_at = \(now), closure = \(closure.rawValue) WHERE id = \(complaint.id)",
            logger: logger
        )
        try await timeline(complaint.id, "closed", actor: actor, detail: closure.rawValue, at: now, on: connection)
        try await outbox.record(
            ComplaintClosed(
                complaintId: complaint.id,
                memberId: complaint.memberId,
                storeId: complaint.storeId,
                dealerId: complaint.dealerId,
                closure: closure,
                closedAt: now,
                reopenableUntil: now.addingTimeInterval(settings.reopenWindow)
            ),
            aggregateID: complaint.aggregate,
            on: connection
        )
    }

    /// Not satisfied after all: the complaint starts over with a new callback task, at the
    /// member's guide as the first one did.
    func reopen(_ id: UUID, _ request: Reopening, by caller: Principal) async throws -> Opened {
        try await transaction { connection in
            let complaint = try await lockComplaint(id, for: caller, on: connection)
            guard complaint.status.allows(.reopen) else { throw ProblemDetails.conflict(complaint.status.refusal(.reopen)) }
            let now = clock.now()
            if let until = ComplaintStatus.reopenableUntil(
                resolvedAt: complaint.resolvedAt,
                closedAt: complaint.closedAt,
                window: settings.reopenWindow
            ),
                now > until
            {
                throw ProblemDetails.conflict("The time to reopen this complaint ended at \(until.formatted(.iso8601)); please open a new one.")
            }
            try await JobScheduler.cancel(uniqueKey: Self.closeKey(id), on: connection, logger: logger)
            try await connection.query(
                """
                UPDATE complaints SET status = 'opened', reopened_count = reopened_count + 1, resolution = NULL, resolved_at = NULL,
                    resolved_by = NULL, closed_at = NULL, closure = NULL
                WHERE id = \(id)
                """,
                logger: logger
            )
            try await timeline(id, "reopened", actor: caller.subject, detail: request.reason, at: now, on: connection)
            try await outbox.record(
                ComplaintReopened(
                    complaintId: id,
                    memberId: complaint.memberId,
                    storeId: complaint.storeId,
                    dealerId: complaint.dealerId,
                    reason: request.reason,
                    reopenedBy: caller.subject,
                    reopenedAt: now
                ),
                aggregateID: complaint.aggregate,
                on: connection
            )
            let member = try await directory.member(complaint.memberId, on: connection) ?? complaint.member
            let task = try await createTask(
                complaintId: id,
                member: member,
                category: complaint.category,
                severity: complaint.severity,
                at: now,
                on: connection
            )
            return Opened(complaintId: id, callbackTask: task)
        }
    }

    static func closeKey(_ id: UUID) -> String { "complaint-close-\(id)" }
}

struct FeedbackJobError: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}

extension Principal {
    /// The service itself, acting on its timers.
    static let feedbackService = Principal(subject: "feedback", role: .service, dealerID: nil, storeID: nil)
}
