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
    var ledger: PointsLedger { purchases.ledger }
    var context: MembershipContext { purchases.context }

    struct TierProgress: ResponseCodable, Sendable {
        let memberId: UUID
        let tier: String
        let multiplier: Double
        let qualifyingSpendCents: Int64
        let nextTier: String?
        let remainingCents: Int64?
    }

    struct Tiers: ResponseCodable, ValidatedRequest, Sendable {
        /// A yearly spend of 100 billion yuan: far beyond any tier, and safe to subtract from.
        static let maxThresholdCents: Int64 = 10_000_000_000_000

        let tiers: [Tier]

        func validate() -> [FieldProblem] {
            var problems: [FieldProblem] = []
            if tiers.isEmpty || tiers.count > 20 { problems.append(.init(field: "tiers", message: "must list 1 to 20 tiers")) }
            if !tiers.contains(where: { $0.thresholdCents == 0 }) { problems.append(.init(field: "tiers", message: "must include an entry tier with thresholdCents 0")) }
            if Set(tiers.map(\.name)).count != tiers.count { problems.append(.init(field: "tiers", message: "names must be unique")) }
            if Set(tiers.map(\.thresholdCents)).count != tiers.count { problems.append(.init(field: "tiers", message: "thresholds must be unique")) }
            for (index, tier) in tiers.enumerated() {
                problems += validateCode(tier.name, field: "tiers[\(index)].name")
                if !(0...Self.maxThresholdCents).contains(tier.thresholdCents) {
                    problems.append(.init(field: "tiers[\(index)].thresholdCents", message: "must be 0 to \(Self.maxThresholdCents)"))
                }
                if !(0.1...10).contains(tier.multiplier) { problems.append(.init(field: "tiers[\(index)].multiplier", message: "must be between 0.1 and 10")) }
            }
            return problems
        }
    }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("members").add(middleware: RoleGate(.service, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post("{id}/purchases") { request, context -> EditedResponse<PurchaseView> in
                let body = try await request.decodeJSON(as: PurchaseRequest.self, context: context)
                let result = try await purchases.record(try memberID(context), body, by: try context.requirePrincipal())
                return EditedResponse(status: result.created ? .created : .ok, response: result.purchase)
            }
        api.group("purchases").add(middleware: RoleGate(.service, .guide, .storeManager, .dealerAdmin, .hqAdmin))
            .post("{orderId}/refund") { _, context -> PurchaseView in
                guard let orderId = context.parameters.get("orderId") else { throw ProblemDetails.notFound("No such purchase.") }
                return try await purchases.refund(orderId, by: try context.requirePrincipal())
            }
        let own = api.group("members").add(middleware: RoleGate(.service, .member, .guide, .storeManager, .dealerAdmin, .hqAdmin))
        own.get("{id}/purchases") { _, context -> [PurchaseView] in
            try await purchases.purchases(of: try memberID(context), by: try context.requirePrincipal())
        }
        own.get("{id}/points") { request, context -> PointsLedger.Statement in
            let before = try request.integerQuery("before", in: 1...Int.max).map(Int64.init)
            let limit = try request.integerQuery("limit", in: 1...200) ?? 50
            return try await ledger.statement(try memberID(context), before: before, limit: limit, by: try context.requirePrincipal())
        }
        own.post("{id}/points/redemptions") { request, context -> PointsLedger.Redemption in
            guard let key = request.headers[.idempotencyKey], (1...200).contains(key.count) else {
                throw ProblemDetails.validation(field: "Idempotency-Key", "is required (1 to 200 characters): spending points must not happen twice")
            }
            let body = try await request.decodeJSON(as: SpendRequest.self, context: context)
            return try await ledger.redeem(try memberID(context), points: body.points, reference: body.reference, idempotencyKey: key, by: try context.requirePrincipal())
        }
        own.post("{id}/points/adjustments") { request, context -> PointsLedger.Redemption in
            guard let key = request.headers[.idempotencyKey], (1...200).contains(key.count) else {
                throw ProblemDetails.validation(field: "Idempotency-Key", "is required (1 to 200 characters): an adjustment must not happen twice")
            }
            let body = try await request.decodeJSON(as: AdjustRequest.self, context: context)
            return try await ledger.adjust(try memberID(context), body, idempotencyKey: key, by: try context.requirePrincipal())
        }
        own.get("{id}/tier") { _, context -> TierProgress in
            let id = try memberID(context)
            let caller = try context.requirePrincipal()
            return try await self.context.transaction { connection in
                let member = try await MemberBook(context: self.context).visible(id, to: caller, on: connection).view
                let rules = try await self.context.tierRules(on: connection)
                let spend = try await purchases.qualifyingSpend(id, on: connection)
                let progress = rules.progress(current: member.tier, spendCents: spend)
                return TierProgress(memberId: id, tier: member.tier, multiplier: rules.tier(named: member.tier)?.multiplier ?? 1,
                                    qualifyingSpendCents: spend, nextTier: progress?.next.name, remainingCents: progress?.remainingCents)
            }
        }
        api.group("tiers").get { _, _ -> Tiers in
            try await context.transaction { Tiers(tiers: try await context.tierRules(on: $0).tiers) }
        }
        api.group("tiers").add(middleware: RoleGate(.hqAdmin)).put { request, requestContext -> Tiers in
            let body = try await request.decodeJSON(as: Tiers.self, context: requestContext)
            return try await context.transaction { connection in
                // Members keep their tier name; a removed tier's members are re-placed at the yearly review.
                try await connection.query("DELETE FROM tiers", logger: context.logger)
                for tier in body.tiers {
                    try await connection.query(
                        "INSERT INTO tiers (name, threshold_cents, multiplier) VALUES (\(tier.name), \(tier.thresholdCents), \(tier.multiplier)::numeric)",
                        logger: context.logger
                    )
                }
                return Tiers(tiers: try await context.tierRules(on: connection).tiers)
            }
        }
    }
}
