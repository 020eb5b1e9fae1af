import AftercareRuntime
import Foundation
import Hummingbird

extension MemberPreferences: ResponseEncodable {}

/// Each person's own messages and choices: `GET /api/v1/inbox`,
/// `POST /api/v1/inbox/{id}/read`, and a member's `GET|PUT /api/v1/preferences`.
struct InboxController: Sendable {
    let dependencies: NotificationDependencies

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("inbox").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .technician, .hqAdmin))
            .get(use: showInbox)
            .post("{id}/read", use: markRead)
        api.group("preferences").add(middleware: RoleGate(.member))
            .get(use: showPreferences)
            .put(use: choosePreferences)
    }

    @Sendable func showInbox(_ request: Request, context: AftercareRequestContext) async throws -> DeliveryPage {
        let caller = try context.requirePrincipal()
        let query = request.uri.queryParameters
        let cursor = try query.get("cursor").map { raw in
            guard let value = Int64(raw) else { throw ProblemDetails.validation(field: "cursor", "is not a cursor this service issued") }
            return value
        }
        let limit = try request.integerQuery("limit", in: 1...200) ?? 50
        let unread = query.get("unread") == "true"
        return try await dependencies.transaction {
            try await dependencies.log.inbox(of: caller.subject, unreadOnly: unread, cursor: cursor, limit: limit, on: $0)
        }
    }

    @Sendable func markRead(_ request: Request, context: AftercareRequestContext) async throws -> Response {
        let caller = try context.requirePrincipal()
        guard let id = context.parameters.id("id"),
            try await dependencies.transaction({
                try await dependencies.log.markRead(id, by: caller.subject, at: dependencies.clock.now(), on: $0)
            })
        else {
            throw ProblemDetails.notFound("No such message in your inbox.")
        }
        return Response(status: .noContent)
    }

    @Sendable func showPreferences(_ request: Request, context: AftercareRequestContext) async throws -> MemberPreferences {
        let caller = try context.requirePrincipal()
        return try await dependencies.transaction { try await dependencies.preferences.read(caller.subject, on: $0) }
    }

    @Sendable func choosePreferences(_ request: Request, context: AftercareRequestContext) async throws -> MemberPreferences {
        let caller = try context.requirePrincipal()
        let chosen = try await request.decodeJSON(as: MemberPreferences.self, context: context)
        return try await dependencies.transaction { connection in
            try await dependencies.preferences.write(caller.subject, chosen, at: dependencies.clock.now(), on: connection)
            return try await dependencies.preferences.read(caller.subject, on: connection)
        }
    }
}
