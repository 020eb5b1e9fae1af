import AftercareRuntime
import Foundation
import Hummingbird

/// `GET /api/v1/review-requests/mine` (a member's open requests), `GET
/// /api/v1/review-requests/{id}` (the member's own, staff within scope) and `POST
/// /api/v1/review-requests/{id}/review` (the member reviews the visit; a low rating opens a
/// complaint with its callback task, returned with the answer).
struct ReviewController: Sendable {
    let reviews: ReviewDesk

    struct Mine: ResponseCodable, Sendable {
        let requests: [ReviewDesk.RequestView]
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let group = api.group("review-requests").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
        group.get("mine") { _, context -> Mine in
            let caller = try context.requirePrincipal()
            guard caller.role == .member else { throw ProblemDetails.forbidden("Only members are asked for reviews.") }
            return Mine(requests: try await reviews.pending(for: caller))
        }
        group.get("{id}") { _, context -> ReviewDesk.RequestView in
            try await reviews.request(try requestID(context), for: try context.requirePrincipal())
        }
        group.post("{id}/review") { request, context -> EditedResponse<ReviewDesk.Submitted> in
            let caller = try context.requirePrincipal()
            guard caller.role == .member else { throw ProblemDetails.forbidden("Only the member who was visited reviews the visit.") }
            let body = try await request.decodeJSON(as: ReviewSubmission.self, context: context)
            return EditedResponse(status: .created, response: try await reviews.submit(try requestID(context), body, by: caller))
        }
    }

    private func requestID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such review request.") }
        return id
    }
}
