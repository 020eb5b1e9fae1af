import AftercareAMQP
import AftercareMessaging
import Foundation
import Hummingbird

/// Lets operators see what landed in the service's dead-letter queue and why, and replay it
/// into the service's queue once the cause is fixed. HQ admins and platform tools only.
struct DeadLetterController: Sendable {
    let service: String
    let publisher: AMQPPublisher

    struct DeadLetter: ResponseEncodable {
        let eventId: String?
        let type: String?
        let reason: String?
        let routingKey: String?
        let deadAt: String?
        let attempts: Int64?
        let body: String
    }

    struct Listing: ResponseEncodable {
        let queue: String
        let count: Int
        let items: [DeadLetter]
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
        group.get { request, _ in try await list(limit: request.uri.queryParameters.get("limit", as: Int.self) ?? 50) }
        group.post("replay") { request, context in
            let body = try await request.decodeJSON(as: ReplayRequest.self, context: context)
            return try await replay(limit: body.limit ?? 100)
        }
    }

    func list(limit: Int) async throws -> Listing {
        guard (1...500).contains(limit) else { throw ProblemDetails.validation(field: "limit", "must be between 1 and 500") }
        let queue = EventBus.deadLetterQueue(for: service)
        let items = try await publisher.peek(queue: queue, limit: limit).map { delivery in
            DeadLetter(
                eventId: delivery.messageID, type: delivery.type,
                reason: delivery.headers[EventHeader.deadLetterReason]?.stringValue,
                routingKey: delivery.headers[EventHeader.originalRoutingKey]?.stringValue,
                deadAt: delivery.headers[EventHeader.deadLetteredAt]?.stringValue,
                attempts: delivery.headers[EventHeader.attempt]?.intValue,
                body: String(decoding: delivery.body, as: UTF8.self)
            )
        }
        return Listing(queue: queue, count: try await publisher.messageCount(queue: queue), items: items)
    }

    /// Moves dead letters back to the service's own queue (not the exchange: only this
    /// service failed them) with a fresh attempt count.
    func replay(limit: Int) async throws -> ReplayResult {
        let moved = try await publisher.move(
            from: EventBus.deadLetterQueue(for: service), to: EventBus.queue(for: service), limit: limit
        ) { delivery in
            var headers = delivery.headers
            headers[EventHeader.attempt] = nil
            headers[EventHeader.deadLetterReason] = nil
            headers["x-aftercare-replayed-at"] = .string(Date().formatted(.iso8601))
            return AMQPOutgoingMessage(
                exchange: "", routingKey: "", body: delivery.body, messageID: delivery.messageID ?? UUID().uuidString.lowercased(),
                type: delivery.type, correlationID: delivery.correlationID, appID: delivery.appID, headers: headers
            )
        }
        return ReplayResult(replayed: moved)
    }
}
