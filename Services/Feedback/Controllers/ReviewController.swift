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
        api.group("review-requests").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .get("mine", use: myRequests)
            .get("{id}", use: showRequest)
            .post("{id}/review", use: submitReview)
    }

    @Sendable func myRequests(_ request: Request, context: AftercareRequestContext) async throws -> Mine {
        let caller = try context.requirePrincipal()
        guard caller.role == .member else { throw ProblemDetails.forbidden("Only members are asked for reviews.") }
        return Mine(requests: try await reviews.pending(for: caller))
    }

    @Sendable func showRequest(_ request: Request, context: AftercareRequestContext) async throws -> ReviewDesk.RequestView {
        try await reviews.request(try requestID(context), for: try context.requirePrincipal())
    }

    @Sendable func submitReview(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<ReviewDesk.Submitted> {
        let caller = try context.requirePrincipal()
        guard caller.role == .member else { throw ProblemDetails.forbidden("Only the member who was visited reviews the visit.") }
        let body = try await request.decodeJSON(as: ReviewSubmission.self, context: context)
        return EditedResponse(status: .created, response: try await reviews.submit(try requestID(context), body, by: caller))
    }

    private func requestID(_ context: AftercareRequestContext) throws -> UUID {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such review request.") }
        return id
    }
}
