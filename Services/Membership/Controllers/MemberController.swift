import AftercareRuntime
import Foundation
import Hummingbird

/// `/api/v1/members`: register (201 new, 200 when the phone is already a member), search
/// within the caller's scope, get, change the profile, set tags.
struct MemberController: Sendable {
    let book: MemberBook

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        // One group per set of roles: middleware added to a group applies to all its routes.
        api.group("members").add(middleware: RoleGate(.service, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post(use: registerMember)
            .get(use: listMembers)
        api.group("members").add(middleware: RoleGate(.service, .member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .get("{id}", use: showMember)
            .patch("{id}", use: changeProfile)
            .put("{id}/tags", use: setTags)
    }

    @Sendable func registerMember(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<MemberView> {
        let registration = try await request.decodeJSON(as: Registration.self, context: context)
        let result = try await book.register(registration, by: try context.requirePrincipal())
        return EditedResponse(status: result.created ? .created : .ok, response: result.member)
    }

    @Sendable func listMembers(_ request: Request, context: AftercareRequestContext) async throws -> MemberBook.Page {
        let query = request.uri.queryParameters
        var search = MemberBook.Search()
        search.phone = query.get("phone")
        search.name = query.get("name")
        search.guideId = query.get("guideId")
        search.storeId = query.get("storeId")
        search.tag = query.get("tag")
        search.cursor = query.get("cursor")
        if let limit = try request.integerQuery("limit", in: 1...200) { search.limit = limit }
        return try await book.search(search, by: try context.requirePrincipal())
    }

    @Sendable func showMember(_ request: Request, context: AftercareRequestContext) async throws -> MemberView {
        let id = try memberID(context)
        return try await book.view(of: id, for: try context.requirePrincipal())
    }

    @Sendable func changeProfile(_ request: Request, context: AftercareRequestContext) async throws -> MemberView {
        let change = try await request.decodeJSON(as: ProfileChange.self, context: context)
        return try await book.update(try memberID(context), change, by: try context.requirePrincipal())
    }

    @Sendable func setTags(_ request: Request, context: AftercareRequestContext) async throws -> MemberView {
        let change = try await request.decodeJSON(as: TagsChange.self, context: context)
        return try await book.setTags(try memberID(context), change, by: try context.requirePrincipal())
    }
}

/// The `{id}` of a member route; anything but a UUID is simply not a member.
func memberID(_ context: AftercareRequestContext) throws -> UUID {
    guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such member.") }
    return id
}
