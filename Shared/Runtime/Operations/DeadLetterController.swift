import AftercareMessaging
import Hummingbird

/// `GET /api/v1/ops/dead-letters?limit=` lists what landed in the service's dead-letter
/// queue and why; `POST /api/v1/ops/dead-letters/replay {"limit": n}` replays it once the
/// cause is fixed. HQ admins and platform tools only.
struct DeadLetterController: Sendable {
    let deadLetters: DeadLetters

    struct Listing: ResponseEncodable {
        let queue: String
        let count: Int
        let items: [DeadLetters.Entry]
    }

    struct ReplayRequest: ValidatedRequest {
        let limit: Int?
        func validate() -> [FieldProblem] {
            guard let limit, !(1...10_000).contains(limit) else { return [] }
            return [FieldProblem(field: "limit", message: "must be between 1 and 10000")]
        }
    }

    struct ReplayResult: ResponseEncodable {
        let replayed: Int
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let group = api.group("ops/dead-letters").add(middleware: RoleGate(.hqAdmin, .service))
        group.get { request, _ -> Listing in
            let limit = try request.integerQuery("limit", in: 1...500) ?? 50
            return Listing(queue: deadLetters.queue, count: try await deadLetters.count(), items: try await deadLetters.list(limit: limit))
        }
        group.post("replay") { request, context -> ReplayResult in
            let body = try await request.decodeJSON(as: ReplayRequest.self, context: context)
            return ReplayResult(replayed: try await deadLetters.replay(limit: body.limit ?? 100))
        }
    }
}
