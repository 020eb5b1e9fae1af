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

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("complaints").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post(use: openComplaint)
            .get("mine", use: myComplaints)
            .get("{id}", use: showComplaint)
            .post("{id}/close", use: closeComplaint)
            .post("{id}/reopen", use: reopenComplaint)
        api.group("complaints").add(middleware: RoleGate(.guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post("{id}/progress", use: startWork)
            .post("{id}/resolve", use: resolveComplaint)
    }

    @Sendable func openComplaint(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<ComplaintDesk.Opened> {
        let body = try await request.decodeJSON(as: OpenComplaintRequest.self, context: context)
        let key = try request.idempotencyKey()
        let opened = try await desk.open(body, by: try context.requirePrincipal(), idempotencyKey: key)
        return EditedResponse(status: .created, response: opened)
    }

    @Sendable func myComplaints(_ request: Request, context: AftercareRequestContext) async throws -> ComplaintDesk.MemberComplaints {
        let caller = try context.requirePrincipal()
        guard caller.role == .member else {
            throw ProblemDetails.forbidden("Only members have complaints of their own; staff use the callback tasks.")
        }
        return try await desk.complaints(of: caller.subject)
    }

    @Sendable func showComplaint(_ request: Request, context: AftercareRequestContext) async throws -> ComplaintDesk.Detail {
        try await desk.detail(try complaintID(context), for: try context.requirePrincipal())
    }

    @Sendable func closeComplaint(_ request: Request, context: AftercareRequestContext) async throws -> ComplaintDesk.Detail {
        let (id, caller) = (try complaintID(context), try context.requirePrincipal())
        try await desk.close(id, by: caller)
        return try await desk.detail(id, for: caller)
    }

    @Sendable func reopenComplaint(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<ComplaintDesk.Opened> {
        let body = try await request.decodeJSON(as: ComplaintDesk.Reopening.self, context: context)
        let reopened = try await desk.reopen(try complaintID(context), body, by: try context.requirePrincipal())
        return EditedResponse(status: .created, response: reopened)
    }

    @Sendable func startWork(_ request: Request, context: AftercareRequestContext) async throws -> ComplaintDesk.Detail {
        let body = try await request.decodeJSON(as: ComplaintDesk.Note.self, context: context)
        let (id, caller) = (try complaintID(context), try context.requirePrincipal())
        try await desk.startWork(on: id, body, by: caller)
        return try await desk.detail(id, for: caller)
    }

    @Sendable func resolveComplaint(_ request: Request, context: AftercareRequestContext) async throws -> ComplaintDesk.Detail {
        let body = try await request.decodeJSON(as: ComplaintDesk.Resolution.self, context: context)
        let (id, caller) = (try complaintID(context), try context.requirePrincipal())
        try await desk.resolve(id, body, by: caller)
        return try await desk.detail(id, for: caller)
    }

    private func complaintID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such complaint.") }
        return id
    }
}
