import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/complaints` (members for themselves; guides, store managers, dealer admins
/// and HQ on a member's behalf; `Idempotency-Key` honoured) and
/// `GET /api/v1/complaints/{id}` with its timeline (staff within scope).
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
        let callbackTasks: [CallbackTaskView]
        let timeline: [TimelineEntry]
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
        api.group("complaints")
            .add(middleware: RoleGate(.guide, .storeManager, .dealerAdmin, .hqAdmin))
            .get("{id}") { _, context -> Detail in
                guard let id = context.parameters.get("id", as: UUID.self) else { throw ProblemDetails.notFound("No such complaint.") }
                return try await detail(id, caller: try context.requirePrincipal())
            }
    }

    func detail(_ id: UUID, caller: Principal) async throws -> Detail {
        try await desk.transaction { connection in
            let rows = try await connection.query(
                "SELECT member_id, store_id, dealer_id, status, category, severity, description, opened_at FROM complaints WHERE id = \(id)",
                logger: desk.logger
            )
            var found: (String, String, String, String, String, String, String, Date)?
            for try await row in rows.decode((String, String, String, String, String, String, String, Date).self) { found = row }
            // Out of scope reads as not found: a caller learns nothing of other stores.
            guard let (memberId, storeId, dealerId, status, category, severity, description, openedAt) = found,
                  Access.covers(caller, storeId: storeId, dealerId: dealerId)
            else { throw ProblemDetails.notFound("No such complaint.") }
            var timeline: [TimelineEntry] = []
            for try await (at, kind, actor, detail) in try await connection.query(
                "SELECT at, kind, actor, detail FROM complaint_timeline WHERE complaint_id = \(id) ORDER BY id", logger: desk.logger
            ).decode((Date, String, String?, String?).self) {
                timeline.append(TimelineEntry(at: at, kind: kind, actor: actor, detail: detail))
            }
            return Detail(
                id: id, memberId: memberId, storeId: storeId, status: status, category: category, severity: severity,
                description: description, openedAt: openedAt,
                callbackTasks: try await desk.tasks(where: "t.complaint_id = $1", bind: id, on: connection), timeline: timeline
            )
        }
    }
}
