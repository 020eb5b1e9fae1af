import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// A callback task as staff see it.
struct CallbackTaskView: ResponseCodable, Sendable, Equatable {
    let id: UUID
    let complaintId: UUID
    let memberId: String
    let storeId: String
    let level: CallbackLevel
    let assigneeId: String?
    let dueAt: Date?
    let status: String
    /// Business seconds until the current rung's deadline (negative when overdue).
    let secondsRemaining: Int?
    /// When the assignee agreed to try again after a call that did not reach the member.
    var retryAt: Date? = nil
    var failedAttempts = 0
}

/// Opens complaints with their callback task and records calls. Every change, its events
/// and its escalation timer are written in one transaction.
struct ComplaintDesk: Sendable {
    static let escalationJob = "feedback.callback.escalate"

    let database: PostgresClient
    let outbox: Outbox
    let directory: Directory
    let policies: DealerPolicies
    let settings: FeedbackSettings
    let clock: any BusinessClock
    let logger: Logger

    struct Opened: ResponseCodable, Sendable {
        let complaintId: UUID
        let callbackTask: CallbackTaskView
    }

    func open(_ request: OpenComplaintRequest, by caller: Principal, idempotencyKey: String?) async throws -> Opened {
        // Member ids are compared as ids: the token's subject is already in the one written form.
        let named = request.memberId.map(UUID.canonical)
        let memberId = caller.role == .member ? caller.subject : named
        guard let memberId else { throw ProblemDetails.validation(field: "memberId", "is required when staff open a complaint") }
        if caller.role == .member, let named, named != caller.subject {
            throw ProblemDetails.forbidden("Members may only complain for themselves.")
        }
        // A key is the caller's own: another caller's same key is another complaint.
        let key = idempotencyKey.map { "\(caller.subject)/\($0)" }
        return try await transaction { connection in
            if let key {
                // Requests with one key wait for each other here; the later ones find the first's complaint.
                let existing = try await TransactionLock.answered(key, in: .complaintKey, on: connection, logger: logger) {
                    try await replay(key, on: connection)
                }
                if let existing { return existing }
            }
            guard let member = try await directory.member(memberId, on: connection),
                Access.canAct(caller, storeId: member.storeId, dealerId: member.dealerId)
            else {
                throw ProblemDetails.validation(field: "memberId", "is not a member this caller can open complaints for")
            }
            return try await open(request, for: member, openedBy: caller.subject, idempotencyKey: key, on: connection)
        }
    }

    /// Writes the complaint, its timeline entry, its event and its callback task inside the
    /// caller's transaction (a low review opens one this way too).
    func open(
        _ request: OpenComplaintRequest,
        for member: MemberPlacement,
        openedBy: String,
        idempotencyKey: String?,
        on connection: PostgresConnection
    ) async throws -> Opened {
        let now = clock.now()
        let complaintId = UUID()
        try await connection.query(
            """
            INSERT INTO complaints (id, member_id, store_id, dealer_id, channel, category, severity, description, related_reference, status, opened_at, opened_by, idempotency_key)
            VALUES (\(complaintId), \(member.memberId), \(member.storeId), \(member.dealerId), \(request.channel), \(request.category), \(request.severity),
                    \(request.description), \(request.relatedReference), 'opened', \(now), \(openedBy), \(idempotencyKey))
            """,
            logger: logger
        )
        try await timeline(complaintId, "opened", actor: openedBy, detail: request.channel, at: now, on: connection)
        try await outbox.record(
            ComplaintOpened(
                complaintId: complaintId,
                memberId: member.memberId,
                storeId: member.storeId,
                dealerId: member.dealerId,
                channel: request.channel,
                category: request.category,
                severity: request.severity,
                openedAt: now
            ),
            aggregateID: "complaint-\(complaintId)",
            on: connection
        )
        let task = try await createTask(
            complaintId: complaintId,
            member: member,
            category: request.category,
            severity: request.severity,
            at: now,
            on: connection
        )
        return Opened(complaintId: complaintId, callbackTask: task)
    }

    /// The callback task: at the first staffed rung from the guide up (the HQ desk while the
    /// store is closed), due when that rung's deadline passes, with its escalation timer.
    func createTask(
        complaintId: UUID,
        member: MemberPlacement,
        category: String,
        severity: String,
        at now: Date,
        on connection: PostgresConnection
    ) async throws -> CallbackTaskView {
        let ladder = try await directory.ladder(for: member, on: connection)
        let storeClosed = try await directory.storeIsClosed(member.storeId, at: now, on: connection)
        let (level, assignee) = ladder.startingRung(storeClosed: storeClosed)
        let dueAt = try await policies.policy(for: member.dealerId, on: connection).deadline(for: level).map { now.addingTimeInterval($0) }
        let taskId = UUID()
        try await connection.query(
            """
            INSERT INTO callback_tasks (id, complaint_id, level, assignee_id, due_at, status, created_at)
            VALUES (\(taskId), \(complaintId), \(level.rawValue), \(assignee), \(dueAt), 'open', \(now))
            """,
            logger: logger
        )
        try await timeline(complaintId, "callback_created", actor: nil, detail: "\(level.rawValue):\(assignee ?? "desk")", at: now, on: connection)
        try await outbox.record(
            CallbackCreated(
                taskId: taskId,
                complaintId: complaintId,
                memberId: member.memberId,
                storeId: member.storeId,
                dealerId: member.dealerId,
                level: level,
                assigneeId: assignee,
                dueAt: dueAt,
                category: category,
                severity: severity
            ),
            aggregateID: "complaint-\(complaintId)",
            on: connection
        )
        if let dueAt { try await scheduleEscalation(taskId: taskId, level: level, dueAt: dueAt, on: connection) }
        return CallbackTaskView(
            id: taskId,
            complaintId: complaintId,
            memberId: member.memberId,
            storeId: member.storeId,
            level: level,
            assigneeId: assignee,
            dueAt: dueAt,
            status: "open",
            secondsRemaining: dueAt.map { Int($0.timeIntervalSince(now)) }
        )
    }

    /// One timer per rung: the firing job of one rung schedules the next rung's without
    /// touching its own row, which the worker deletes when the firing commits.
    func scheduleEscalation(taskId: UUID, level: CallbackLevel, dueAt: Date, on connection: PostgresConnection) async throws {
        let payload = String(decoding: try JSONEncoder().encode(EscalationPayload(taskId: taskId, level: level)), as: UTF8.self)
        try await JobScheduler.schedule(
            kind: Self.escalationJob,
            dueAt: dueAt,
            payload: payload,
            uniqueKey: Self.escalationKey(taskId, level),
            on: connection,
            logger: logger
        )
    }

    static func escalationKey(_ taskId: UUID, _ level: CallbackLevel) -> String {
        "callback-escalation-\(taskId)-\(level.rawValue)"
    }

    func timeline(_ complaintId: UUID, _ kind: String, actor: String?, detail: String?, at: Date, on connection: PostgresConnection) async throws {
        try await connection.query(
            "INSERT INTO complaint_timeline (complaint_id, at, kind, actor, detail) VALUES (\(complaintId), \(at), \(kind), \(actor), \(detail))",
            logger: logger
        )
    }

    /// A retried POST with the same Idempotency-Key returns what the first one created.
    private func replay(_ key: String, on connection: PostgresConnection) async throws -> Opened? {
        let rows = try await connection.query(
            "SELECT c.id, t.id FROM complaints c JOIN callback_tasks t ON t.complaint_id = c.id WHERE c.idempotency_key = \(key) ORDER BY t.created_at LIMIT 1",
            logger: logger
        )
        for try await (complaintId, taskId) in rows.decode((UUID, UUID).self) {
            guard let task = try await task(taskId, on: connection) else { return nil }
            return Opened(complaintId: complaintId, callbackTask: task)
        }
        return nil
    }

    func task(_ id: UUID, on connection: PostgresConnection) async throws -> CallbackTaskView? {
        try await tasks(where: "t.id = $1", bind: id, on: connection).first
    }

    func tasks(
        where condition: String,
        bind value: some PostgresEncodable & Sendable,
        on connection: PostgresConnection
    ) async throws -> [CallbackTaskView] {
        var bindings = PostgresBindings()
        try bindings.append(value)
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT t.id, t.complaint_id, c.member_id, c.store_id, t.level, t.assignee_id, t.due_at, t.status, t.retry_at, t.failed_attempts
                    FROM callback_tasks t JOIN complaints c ON c.id = t.complaint_id
                    WHERE \(condition) ORDER BY t.due_at NULLS LAST, t.created_at
                    """,
                binds: bindings
            ),
            logger: logger
        )
        let now = clock.now()
        var result: [CallbackTaskView] = []
        for try await (id, complaintId, memberId, storeId, level, assignee, dueAt, status, retryAt, failedAttempts) in rows.decode(
            (UUID, UUID, String, String, String, String?, Date?, String, Date?, Int).self
        ) {
            result.append(
                CallbackTaskView(
                    id: id,
                    complaintId: complaintId,
                    memberId: memberId,
                    storeId: storeId,
                    level: CallbackLevel(rawValue: level) ?? .hqDesk,
                    assigneeId: assignee,
                    dueAt: dueAt,
                    status: status,
                    secondsRemaining: dueAt.map { Int($0.timeIntervalSince(now).rounded()) },
                    retryAt: retryAt,
                    failedAttempts: failedAttempts
                )
            )
        }
        return result
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await database.transaction(logger: logger, body)
    }
}

struct EscalationPayload: Codable, Sendable {
    let taskId: UUID
    let level: CallbackLevel
}

extension TransactionLock.Space {
    /// A complaint's `Idempotency-Key`.
    static let complaintKey = Self(31)
}
