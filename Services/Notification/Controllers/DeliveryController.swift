import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird

extension DeliveryPage: ResponseEncodable {}

/// `GET /api/v1/deliveries`: staff look up what was sent to whom, by recipient, event,
/// status and channel, within their scope (HQ all, a dealer admin their dealer's, managers
/// and guides their store's). `GET /api/v1/deliveries/{id}` adds every attempt.
struct DeliveryController: Sendable {
    let dependencies: NotificationDependencies

    struct Detail: ResponseCodable, Sendable {
        let delivery: DeliveryView
        let attempts: [DeliveryLog.Attempt]
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("deliveries").add(middleware: RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide, .service))
            .get(use: searchDeliveries)
            .get("{id}", use: showDelivery)
    }

    @Sendable func searchDeliveries(_ request: Request, context: AftercareRequestContext) async throws -> DeliveryPage {
        let filter = try Self.filter(request, caller: try context.requirePrincipal())
        return try await dependencies.transaction { try await dependencies.log.search(filter, on: $0) }
    }

    @Sendable func showDelivery(_ request: Request, context: AftercareRequestContext) async throws -> Detail {
        guard let id = context.parameters.id("id") else { throw ProblemDetails.notFound("No such delivery.") }
        let caller = try context.requirePrincipal()
        return try await dependencies.transaction { connection in
            guard let (view, dealer) = try await dependencies.log.delivery(id, on: connection),
                Self.covers(caller, storeId: view.storeId, dealerId: dealer)
            else {
                throw ProblemDetails.notFound("No such delivery.")
            }
            return Detail(delivery: view, attempts: try await dependencies.log.attempts(of: id, on: connection))
        }
    }

    static func filter(_ request: Request, caller: Principal) throws -> DeliveryLog.Filter {
        let query = request.uri.queryParameters
        var filter = DeliveryLog.Filter()
        var problems: [FieldProblem] = []
        filter.recipientId = query.get("recipientId").map(UUID.canonical)
        if let raw = query.get("eventId") {
            filter.eventId = UUID(uuidString: raw)
            if filter.eventId == nil { problems.append(FieldProblem(field: "eventId", message: "must be a UUID")) }
        }
        if let status = query.get("status") {
            if DeliveryLog.statuses.contains(status) {
                filter.status = status
            } else {
                problems.append(FieldProblem(field: "status", message: "must be one of \(DeliveryLog.statuses.joined(separator: ", "))"))
            }
        }
        if let channel = query.get("channel") {
            if MessageChannel(rawValue: channel) != nil {
                filter.channel = channel
            } else {
                problems.append(
                    FieldProblem(field: "channel", message: "must be one of \(MessageChannel.allCases.map(\.rawValue).joined(separator: ", "))")
                )
            }
        }
        if let raw = query.get("cursor") {
            filter.cursor = Int64(raw)
            if filter.cursor == nil { problems.append(FieldProblem(field: "cursor", message: "is not a cursor this service issued")) }
        }
        if let limit = try request.integerQuery("limit", in: 1...200) { filter.limit = limit }
        if !problems.isEmpty { throw ProblemDetails.validation(problems) }
        switch caller.role {
        case .hqAdmin, .service: break
        case .dealerAdmin: filter.dealerId = caller.dealerID ?? "-"
        default: filter.storeId = caller.storeID ?? "-"
        }
        return filter
    }

    static func covers(_ caller: Principal, storeId: String?, dealerId: String?) -> Bool {
        switch caller.role {
        case .hqAdmin, .service: true
        case .dealerAdmin: caller.dealerID != nil && caller.dealerID == dealerId
        default: caller.storeID != nil && caller.storeID == storeId
        }
    }
}
