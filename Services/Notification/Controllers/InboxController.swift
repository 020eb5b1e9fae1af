import AftercareRuntime
import Foundation
import Hummingbird

extension MemberPreferences: ResponseEncodable {}

/// Each person's own messages and choices: `GET /api/v1/inbox`,
/// `POST /api/v1/inbox/{id}/read`, and a member's `GET|PUT /api/v1/preferences`.
struct InboxController: Sendable {
    let desk: NotificationDesk

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let inbox = api.group("inbox").add(middleware: RoleGate(.member, .guide, .storeManager, .dealerAdmin, .technician, .hqAdmin))
        inbox.get { request, context -> DeliveryPage in
            let caller = try context.requirePrincipal()
            let query = request.uri.queryParameters
            let cursor = try query.get("cursor").map { raw in
                guard let value = Int64(raw) else { throw ProblemDetails.validation(field: "cursor", "is not a cursor this service issued") }
                return value
            }
            let limit = try request.integerQuery("limit", in: 1...200) ?? 50
            let unread = query.get("unread") == "true"
            return try await desk.transaction { try await desk.log.inbox(of: caller.subject, unreadOnly: unread, cursor: cursor, limit: limit, on: $0) }
        }
        inbox.post("{id}/read") { _, context -> Response in
            let caller = try context.requirePrincipal()
            guard let id = context.parameters.id("id"),
                  try await desk.transaction({ try await desk.log.markRead(id, by: caller.subject, at: desk.clock.now(), on: $0) }) else {
                throw ProblemDetails.notFound("No such message in your inbox.")
            }
            return Response(status: .noContent)
        }
        let preferences = api.group("preferences").add(middleware: RoleGate(.member))
        preferences.get { _, context -> MemberPreferences in
            let caller = try context.requirePrincipal()
            return try await desk.transaction { try await desk.preferences.read(caller.subject, on: $0) }
        }
        preferences.put { request, context -> MemberPreferences in
            let caller = try context.requirePrincipal()
            let chosen = try await request.decodeJSON(as: MemberPreferences.self, context: context)
            return try await desk.transaction { connection in
                try await desk.preferences.write(caller.subject, chosen, at: desk.clock.now(), on: connection)
                return try await desk.preferences.read(caller.subject, on: connection)
            }
        }
    }
}
