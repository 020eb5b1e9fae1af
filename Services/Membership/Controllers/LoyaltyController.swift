import AftercareRuntime
import Foundation
import Hummingbird

/// Purchases, refunds, points and tiers:
/// - `POST /api/v1/members/{id}/purchases` (store staff, dealer admins, HQ, services; idempotent on `orderId`)
/// - `GET /api/v1/members/{id}/purchases`, `POST /api/v1/purchases/{orderId}/refund`
/// - `GET /api/v1/members/{id}/points` (balance, expiring lots, history),
///   `POST /api/v1/members/{id}/points/redemptions` (`Idempotency-Key` required)
/// - `GET /api/v1/members/{id}/tier`, `GET|PUT /api/v1/tiers` (PUT: HQ)
struct LoyaltyController: Sendable {
    let purchases: Purchases
    let tiers: TierBook
    var ledger: PointsLedger { purchases.ledger }

    struct Tiers: ResponseCodable, ValidatedRequest, Sendable {
        /// A yearly spend of 100 billion yuan: far beyond any tier, and safe to subtract from.
        static let maxThresholdCents: Int64 = 10_000_000_000_000

        let tiers: [Tier]

        func validate() -> [FieldProblem] {
            var problems: [FieldProblem] = []
            if tiers.isEmpty || tiers.count > 20 { problems.append(.init(field: "tiers", message: "must list 1 to 20 tiers")) }
            if !tiers.contains(where: { $0.thresholdCents == 0 }) {
                problems.append(.init(field: "tiers", message: "must include an entry tier with thresholdCents 0"))
            }
            if Set(tiers.map(\.name)).count != tiers.count { problems.append(.init(field: "tiers", message: "names must be unique")) }
            if Set(tiers.map(\.thresholdCents)).count != tiers.count { problems.append(.init(field: "tiers", message: "thresholds must be unique")) }
            for (index, tier) in tiers.enumerated() {
                problems += validateCode(tier.name, field: "tiers[\(index)].name")
                if !(0...Self.maxThresholdCents).contains(tier.thresholdCents) {
                    problems.append(.init(field: "tiers[\(index)].thresholdCents", message: "must be 0 to \(Self.maxThresholdCents)"))
                }
                if !(0.1...10).contains(tier.multiplier) {
                    problems.append(.init(field: "tiers[\(index)].multiplier", message: "must be between 0.1 and 10"))
                }
            }
            return problems
        }
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("members").add(middleware: RoleGate(.service, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post("{id}/purchases", use: recordPurchase)
        api.group("purchases").add(middleware: RoleGate(.service, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post("{orderId}/refund", use: refundPurchase)
        api.group("members").add(middleware: RoleGate(.service, .member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .get("{id}/purchases", use: listPurchases)
            .get("{id}/points", use: showPoints)
            .post("{id}/points/redemptions", use: redeemPoints)
            .post("{id}/points/adjustments", use: adjustPoints)
            .get("{id}/tier", use: showTier)
        api.group("tiers")
            .get(use: listTiers)
        api.group("tiers").add(middleware: RoleGate(.hqAdmin))
            .put(use: putTiers)
    }

    @Sendable func recordPurchase(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<PurchaseView> {
        let body = try await request.decodeJSON(as: PurchaseRequest.self, context: context)
        let result = try await purchases.record(try memberID(context), body, by: try context.requirePrincipal())
        return EditedResponse(status: result.created ? .created : .ok, response: result.purchase)
    }

    @Sendable func refundPurchase(_ request: Request, context: AftercareRequestContext) async throws -> PurchaseView {
        guard let orderId = context.parameters.get("orderId") else { throw ProblemDetails.notFound("No such purchase.") }
        return try await purchases.refund(orderId, by: try context.requirePrincipal())
    }

    @Sendable func listPurchases(_ request: Request, context: AftercareRequestContext) async throws -> [PurchaseView] {
        try await purchases.purchases(of: try memberID(context), by: try context.requirePrincipal())
    }

    @Sendable func showPoints(_ request: Request, context: AftercareRequestContext) async throws -> PointsLedger.Statement {
        let before = try request.integerQuery("before", in: 1...Int.max).map(Int64.init)
        let limit = try request.integerQuery("limit", in: 1...200) ?? 50
        return try await ledger.statement(try memberID(context), before: before, limit: limit, by: try context.requirePrincipal())
    }

    @Sendable func redeemPoints(_ request: Request, context: AftercareRequestContext) async throws -> PointsLedger.Redemption {
        guard let key = request.headers[.idempotencyKey], (1...200).contains(key.count) else {
            throw ProblemDetails.validation(field: "Idempotency-Key", "is required (1 to 200 characters): spending points must not happen twice")
        }
        let body = try await request.decodeJSON(as: SpendRequest.self, context: context)
        return try await ledger.redeem(
            try memberID(context),
            points: body.points,
            reference: body.reference,
            idempotencyKey: key,
            by: try context.requirePrincipal()
        )
    }

    @Sendable func adjustPoints(_ request: Request, context: AftercareRequestContext) async throws -> PointsLedger.Redemption {
        guard let key = request.headers[.idempotencyKey], (1...200).contains(key.count) else {
            throw ProblemDetails.validation(field: "Idempotency-Key", "is required (1 to 200 characters): an adjustment must not happen twice")
        }
        let body = try await request.decodeJSON(as: AdjustRequest.self, context: context)
        return try await ledger.adjust(try memberID(context), body, idempotencyKey: key, by: try context.requirePrincipal())
    }

    @Sendable func showTier(_ request: Request, context: AftercareRequestContext) async throws -> TierBook.Progress {
        let id = try memberID(context)
        return try await tiers.progress(of: id, by: try context.requirePrincipal())
    }

    @Sendable func listTiers(_ request: Request, context: AftercareRequestContext) async throws -> Tiers {
        Tiers(tiers: try await tiers.current())
    }

    @Sendable func putTiers(_ request: Request, context: AftercareRequestContext) async throws -> Tiers {
        let body = try await request.decodeJSON(as: Tiers.self, context: context)
        return Tiers(tiers: try await tiers.replace(with: body.tiers))
    }
}
