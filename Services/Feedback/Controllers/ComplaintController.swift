import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/complaints` (members for themselves; guides, store managers, dealer admins
/// and HQ on a member's behalf; `Idempotency-Key` honoured); `GET /api/v1/complaints/{id}`
/// (staff within scope, with tasks and timeline; a member their own, without); the steps
/// after the callback: `progress`, `resolve` (staff), `close` and `reopen` (the member, or
/// staff on their word); `GET /api/v1/complaints/mine` for members.
struct ComplaintController: Sendable {
    let desk: ComplaintDesk

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

    struct Mine: ResponseCodable, Sendable {
        let complaints: [Summary]
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("complaints")
            .add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post { request, context -> EditedResponse<ComplaintDesk.Opened> in
                let body = try await request.decodeJSON(as: OpenComplaintRequest.self, context: context)
                let key = request.headers[.idempotencyKey]
                if let key, key.isEmpty || key.count > 200 { throw ProblemDetails.validation(field: "Idempotency-Key", "must be 1 to 200 characters") }
                let opened = try await desk.open(body, by: try context.requirePrincipal(), idempotencyKey: key)
                return EditedResponse(status: .created, response: opened)
            }
        let everyone = api.group("complaints").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
        everyone.get("mine") { _, context -> Mine in
            let caller = try context.requirePrincipal()
            guard caller.role == .member else { throw ProblemDetails.forbidden("Only members have complaints of their own; staff use the callback tasks.") }
            return try await mine(caller)
        }
        everyone.get("{id}") { _, context -> Detail in
            try await detail(try complaintID(context), caller: try context.requirePrincipal())
        }
        everyone.post("{id}/close") { _, context -> Detail in
            let caller = try context.requirePrincipal()
            try await desk.close(try complaintID(context), by: caller)
            return try await detail(try complaintID(context), caller: caller)
        }
        everyone.post("{id}/reopen") { request, context -> EditedResponse<ComplaintDesk.Opened> in
            let body = try await request.decodeJSON(as: ComplaintDesk.Reopening.self, context: context)
            let reopened = try await desk.reopen(try complaintID(context), body, by: try context.requirePrincipal())
            return EditedResponse(status: .created, response: reopened)
        }
        let staff = api.group("complaints").add(middleware: RoleGate(.guide, .storeManager, .dealerAdmin, .hqAdmin))
        staff.post("{id}/progress") { request, context -> Detail in
            let body = try await request.decodeJSON(as: ComplaintDesk.Note.self, context: context)
            let caller = try context.requirePrincipal()
            try await desk.startWork(on: try complaintID(context), body, by: caller)
            return try await detail(try complaintID(context), caller: caller)
        }
        staff.post("{id}/resolve") { request, context -> Detail in
            let body = try await request.decodeJSON(as: ComplaintDesk.Resolution.self, context: context)
            let caller = try context.requirePrincipal()
            try await desk.resolve(try complaintID(context), body, by: caller)
            return try await detail(try complaintID(context), caller: caller)
        }
    }

    private func complaintID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such complaint.") }
        return id
    }

    func mine(_ caller: Principal) async throws -> Mine {
        let rows = try await desk.database.rows(
            "SELECT id, status, category, opened_at, resolution FROM complaints WHERE member_id = \(caller.subject) ORDER BY opened_at DESC LIMIT 100",
            logger: desk.logger
        )
        var complaints: [Summary] = []
        for row in rows {
            let (id, status, category, openedAt, resolution) = try row.decode((UUID, String, String, Date, String?).self)
            complaints.append(Summary(id: id, status: status, category: category, openedAt: openedAt, resolution: resolution))
        }
        return Mine(complaints: complaints)
    }

    func detail(_ id: UUID, caller: Principal) async throws -> Detail {
        try await desk.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT member_id, store_id, dealer_id, status, category, severity, description, opened_at, resolution, resolved_at, closed_at, reopened_count
                FROM complaints WHERE id = \(id)
                """,
                logger: desk.logger
            )
            typealias Row = (String, String, String, String, String, String, String, Date, String?, Date?, Date?, Int)
            var found: Row?
            for try await row in rows.decode(Row.self) { found = row }
            // Out of scope reads as not found: a caller learns nothing of other stores.
            guard let (memberId, storeId, dealerId, status, category, severity, description, openedAt, resolution, resolvedAt, closedAt, reopenedCount) = found
            else { throw ProblemDetails.notFound("No such complaint.") }
            let isMember = caller.role == .member
            guard isMember ? caller.subject == memberId : Access.covers(caller, storeId: storeId, dealerId: dealerId) else {
                throw ProblemDetails.notFound("No such complaint.")
            }
            var timeline: [TimelineEntry]?
            var tasks: [CallbackTaskView]?
            if !isMember {
                var entries: [TimelineEntry] = []
                for try await (at, kind, actor, detail) in try await connection.query(
                    "SELECT at, kind, actor, detail FROM complaint_timeline WHERE complaint_id = \(id) ORDER BY id", logger: desk.logger
                ).decode((Date, String, String?, String?).self) {
                    entries.append(TimelineEntry(at: at, kind: kind, actor: actor, detail: detail))
                }
                timeline = entries
                tasks = try await desk.tasks(where: "t.complaint_id = $1", bind: id, on: connection)
            }
            return Detail(
                id: id, memberId: memberId, storeId: storeId, status: status, category: category, severity: severity,
                description: description, openedAt: openedAt, resolution: resolution, resolvedAt: resolvedAt, closedAt: closedAt,
                reopenedCount: reopenedCount, callbackTasks: tasks, timeline: timeline
            )
        }
    }
}
