import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/callback-tasks/mine`: the caller's open tasks with seconds remaining (HQ
/// admins also see the HQ desk's). `GET /api/v1/callback-tasks/{id}` (staff in scope).
/// `POST /api/v1/callback-tasks/{id}/calls` records a call.
struct CallbackTaskController: Sendable {
    let desk: ComplaintDesk

    struct Mine: ResponseCodable, Sendable {
        let tasks: [CallbackTaskView]
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let group = api.group("callback-tasks").add(middleware: RoleGate(.guide, .storeManager, .dealerAdmin, .hqAdmin))
        group.get("mine") { _, context -> Mine in
            let caller = try context.requirePrincipal()
            return try await desk.transaction { connection in
                let tasks = caller.role == .hqAdmin
                    ? try await desk.tasks(where: "t.status = 'open' AND (t.assignee_id = $1 OR t.level = 'hq_desk')", bind: caller.subject, on: connection)
                    : try await desk.tasks(where: "t.status = 'open' AND t.assignee_id = $1", bind: caller.subject, on: connection)
                return Mine(tasks: tasks)
            }
        }
        group.get("{id}") { _, context -> CallbackTaskView in
            let caller = try context.requirePrincipal()
            guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such callback task.") }
            return try await desk.transaction { connection in
                let rows = try await connection.query(
                    "SELECT c.store_id, c.dealer_id FROM callback_tasks t JOIN complaints c ON c.id = t.complaint_id WHERE t.id = \(id)",
                    logger: desk.logger
                )
                for try await (storeId, dealerId) in rows.decode((String, String).self) where Access.covers(caller, storeId: storeId, dealerId: dealerId) {
                    if let task = try await desk.task(id, on: connection) { return task }
                }
                throw ProblemDetails.notFound("No such callback task.")
            }
        }
        group.post("{id}/calls") { request, context -> CallbackTaskView in
            guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such callback task.") }
            let call = try await request.decodeJSON(as: ComplaintDesk.CallRecord.self, context: context)
            return try await desk.recordCall(taskId: id, call, by: try context.requirePrincipal())
        }
    }
}
