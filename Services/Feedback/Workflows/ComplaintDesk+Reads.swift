import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

/// What callers read of complaints and callback tasks, within their scope: out of scope reads
/// as not found, so a caller learns nothing of other stores.
extension ComplaintDesk {
    struct TimelineEntry: Codable, Sendable {
        let at: Date
        let kind: String
        let actor: String?
        let detail: String?
    }

    struct Detail: ResponseCodable, Sendable {
        let id: UUID
        let memberId: String
        let storeId: String
        let status: String
        let category: String
        let severity: String
        let description: String
        let openedAt: Date
        let resolution: String?
        let resolvedAt: Date?
        let closedAt: Date?
        let reopenedCount: Int
        /// Staff only: members see where their complaint stands, not the internal trail.
        let callbackTasks: [CallbackTaskView]?
        let timeline: [TimelineEntry]?
    }

    struct Summary: Codable, Sendable {
        let id: UUID
        let status: String
        let category: String
        let openedAt: Date
        let resolution: String?
    }

    struct MemberComplaints: ResponseCodable, Sendable {
        let complaints: [Summary]
    }

    struct TaskList: ResponseCodable, Sendable {
        let tasks: [CallbackTaskView]
    }

    /// A member's own complaints, newest first.
    func complaints(of member: String) async throws -> MemberComplaints {
        let rows = try await database.rows(
            "SELECT id, status, category, opened_at, resolution FROM complaints WHERE member_id = \(member) ORDER BY opened_at DESC LIMIT 100",
            logger: logger
        )
        var complaints: [Summary] = []
        for row in rows {
            let (id, status, category, openedAt, resolution) = try row.decode((UUID, String, String, Date, String?).self)
            complaints.append(Summary(id: id, status: status, category: category, openedAt: openedAt, resolution: resolution))
        }
        return MemberComplaints(complaints: complaints)
    }

    /// One complaint as `caller` may see it: staff within scope get its tasks and timeline,
    /// the member their own complaint without them.
    func detail(_ id: UUID, for caller: Principal) async throws -> Detail {
        try await transaction { connection in
            let rows = try await connection.query(
                """
                SELECT member_id, store_id, dealer_id, status, category, severity, description, opened_at, resolution, resolved_at, closed_at, reopened_count
                FROM complaints WHERE id = \(id)
                """,
                logger: logger
            )
            typealias Row = (String, String, String, String, String, String, String, Date, String?, Date?, Date?, Int)
            var found: Row?
            for try await row in rows.decode(Row.self) { found = row }
            guard
                let (
                    memberId, storeId, dealerId, status, category, severity, description, openedAt, resolution, resolvedAt, closedAt, reopenedCount
                ) = found
            else { throw ProblemDetails.notFound("No such complaint.") }
            let isMember = caller.role == .member
            guard isMember ? caller.subject == memberId : Access.covers(caller, storeId: storeId, dealerId: dealerId) else {
                throw ProblemDetails.notFound("No such complaint.")
            }
            var timeline: [TimelineEntry]?
            var tasks: [CallbackTaskView]?
            if !isMember {
                timeline = try await self.timeline(of: id, on: connection)
                tasks = try await self.tasks(where: "t.complaint_id = $1", bind: id, on: connection)
            }
            return Detail(
                id: id,
                memberId: memberId,
                storeId: storeId,
                status: status,
                category: category,
                severity: severity,
                description: description,
                openedAt: openedAt,
                resolution: resolution,
                resolvedAt: resolvedAt,
                closedAt: closedAt,
                reopenedCount: reopenedCount,
                callbackTasks: tasks,
                timeline: timeline
            )
        }
    }

    private func timeline(of complaint: UUID, on connection: PostgresConnection) async throws -> [TimelineEntry] {
        var entries: [TimelineEntry] = []
        for try await (at, kind, actor, detail) in try await connection.query(
            "SELECT at, kind, actor, detail FROM complaint_timeline WHERE complaint_id = \(complaint) ORDER BY id",
            logger: logger
        ).decode((Date, String, String?, String?).self) {
            entries.append(TimelineEntry(at: at, kind: kind, actor: actor, detail: detail))
        }
        return entries
    }

    /// The open tasks assigned to `caller`; HQ admins also see the HQ desk's.
    func openTasks(of caller: Principal) async throws -> TaskList {
        try await transaction { connection in
            let tasks =
                caller.role == .hqAdmin
                ? try await self.tasks(
                    where: "t.status = 'open' AND (t.assignee_id = $1 OR t.level = 'hq_desk')",
                    bind: caller.subject,
                    on: connection
                )
                : try await self.tasks(where: "t.status = 'open' AND t.assignee_id = $1", bind: caller.subject, on: connection)
            return TaskList(tasks: tasks)
        }
    }

    /// One task, when its complaint is within `caller`'s scope.
    func task(_ id: UUID, for caller: Principal) async throws -> CallbackTaskView {
        try await transaction { connection in
            let rows = try await connection.query(
                "SELECT c.store_id, c.dealer_id FROM callback_tasks t JOIN complaints c ON c.id = t.complaint_id WHERE t.id = \(id)",
                logger: logger
            )
            for try await (storeId, dealerId) in rows.decode((String, String).self) where Access.covers(caller, storeId: storeId, dealerId: dealerId)
            {
                if let task = try await self.task(id, on: connection) { return task }
            }
            throw ProblemDetails.notFound("No such callback task.")
        }
    }
}
