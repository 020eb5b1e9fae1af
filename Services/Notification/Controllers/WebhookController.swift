import AftercareRuntime
import Foundation
import Hummingbird

/// What providers call back with, through the brand's integration (a `service` token):
/// delivery receipts, and members' SMS replies (an unsubscribe keyword such as "TD").
struct WebhookController: Sendable {
    let dependencies: NotificationDependencies

    struct Receipt: ValidatedRequest, Sendable {
        /// The delivery id we sent as `reference`.
        let reference: String
        let status: String
        let detail: String?

        func validate() -> [FieldProblem] {
            var problems: [FieldProblem] = []
            if UUID(uuidString: reference) == nil {
                problems.append(FieldProblem(field: "reference", message: "must be the delivery id sent as reference"))
            }
            if !["delivered", "failed"].contains(status) { problems.append(FieldProblem(field: "status", message: "must be delivered or failed")) }
            return problems
        }
    }

    struct Reply: ValidatedRequest, Sendable {
        let from: String
        let text: String

        func validate() -> [FieldProblem] {
            from.isEmpty || from.count > 32 ? [FieldProblem(field: "from", message: "must be the sender's phone number")] : []
        }
    }

    struct ReplyOutcome: ResponseCodable, Sendable {
        let unsubscribed: Bool
        let members: Int
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("webhooks").add(middleware: RoleGate(.service))
            .post("delivery-receipts", use: recordReceipt)
            .post("sms-replies", use: honourReply)
    }

    @Sendable func recordReceipt(_ request: Request, context: AftercareRequestContext) async throws -> Response {
        let receipt = try await request.decodeJSON(as: Receipt.self, context: context)
        guard let id = UUID(uuidString: receipt.reference) else { throw ProblemDetails.validation(field: "reference", "must be a UUID") }
        let known = try await dependencies.transaction { connection in
            if receipt.status == "delivered" { return try await dependencies.log.delivered(id, at: dependencies.clock.now(), on: connection) }
            try await dependencies.courier.fail(deliveryId: id, reason: "provider receipt: \(receipt.detail ?? "undeliverable")", on: connection)
            return try await dependencies.log.delivery(id, on: connection) != nil
        }
        guard known else { throw ProblemDetails.notFound("No such delivery.") }
        return Response(status: .noContent)
    }

    @Sendable func honourReply(_ request: Request, context: AftercareRequestContext) async throws -> ReplyOutcome {
        let reply = try await request.decodeJSON(as: Reply.self, context: context)
        let members = try await dependencies.transaction {
            try await dependencies.recipients.honourReply(from: reply.from, text: reply.text, at: dependencies.clock.now(), on: $0)
        }
        return ReplyOutcome(unsubscribed: !members.isEmpty, members: members.count)
    }
}
