import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/callback-tasks/mine`: the caller's open tasks with seconds remaining (HQ
/// admins also see the HQ desk's). `GET /api/v1/callback-tasks/{id}` (staff in scope).
/// `POST /api/v1/callback-tasks/{id}/calls` records a call.
struct CallbackTaskController: Sendable {
    let desk: ComplaintDesk

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("callback-tasks").add(middleware: RoleGate(.guide, .storeManager, .dealerAdmin, .hqAdmin))
            .get("mine", use: myTasks)
            .get("{id}", use: showTask)
            .post("{id}/calls", use: recordCall)
    }

    @Sendable func myTasks(_ request: Request, context: AftercareRequestContext) async throws -> ComplaintDesk.TaskList {
        try await desk.openTasks(of: try context.requirePrincipal())
    }

    @Sendable func showTask(_ request: Request, context: AftercareRequestContext) async throws -> CallbackTaskView {
        try await desk.task(try taskID(context), for: try context.requirePrincipal())
    }

    @Sendable func recordCall(_ request: Request, context: AftercareRequestContext) async throws -> CallbackTaskView {
        let id = try taskID(context)
        let call = try await request.decodeJSON(as: ComplaintDesk.CallRecord.self, context: context)
        return try await desk.recordCall(taskId: id, call, by: try context.requirePrincipal())
    }

    private func taskID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such callback task.") }
        return id
    }
}
