import AftercareRuntime
import Foundation
import Hummingbird

/// `GET|PUT|DELETE /api/v1/dealers/{dealerId}/escalation-policy`: a dealer's own deadlines
/// for each rung. HQ sets and resets them; a dealer admin reads their own.
struct DealerPolicyController: Sendable {
    let policies: DealerPolicies
    let desk: ComplaintDesk

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("dealers/{dealerId}/escalation-policy").add(middleware: RoleGate(.dealerAdmin, .hqAdmin))
            .get(use: showPolicy)
        api.group("dealers/{dealerId}/escalation-policy").add(middleware: RoleGate(.hqAdmin))
            .put(use: setPolicy)
            .delete(use: resetPolicy)
    }

    @Sendable func showPolicy(_ request: Request, context: AftercareRequestContext) async throws -> DealerPolicies.Stored {
        let caller = try context.requirePrincipal()
        let dealerId = try dealer(context)
        guard caller.role == .hqAdmin || caller.dealerID == dealerId else { throw ProblemDetails.notFound("No such dealer.") }
        return try await desk.transaction { try await policies.read(dealerId, on: $0) }
    }

    @Sendable func setPolicy(_ request: Request, context: AftercareRequestContext) async throws -> DealerPolicies.Stored {
        let deadlines = try await request.decodeJSON(as: DealerPolicies.Deadlines.self, context: context)
        let caller = try context.requirePrincipal()
        let dealerId = try dealer(context)
        return try await desk.transaction { try await policies.write(dealerId, deadlines, by: caller, at: desk.clock.now(), on: $0) }
    }

    @Sendable func resetPolicy(_ request: Request, context: AftercareRequestContext) async throws -> DealerPolicies.Stored {
        let dealerId = try dealer(context)
        return try await desk.transaction { connection in
            try await policies.reset(dealerId, on: connection)
            return try await policies.read(dealerId, on: connection)
        }
    }

    private func dealer(_ context: AftercareRequestContext) throws -> String {
        guard let id = context.parameters.get("dealerId"), (1...64).contains(id.count) else { throw ProblemDetails.notFound("No such dealer.") }
        return id
    }
}
