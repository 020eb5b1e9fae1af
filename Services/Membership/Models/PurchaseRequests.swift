import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird

/// A sale recorded in the store. Amounts are in minor units (fen); the order id is the
/// store system's and makes the request idempotent.
struct PurchaseRequest: ValidatedRequest, Sendable {
    let orderId: String
    let amountCents: Int64
    let items: [PurchaseItem]
    let purchasedAt: Date?
    /// Required when the caller is not store staff (whose store it is by their token).
    let storeId: String?

    /// Amounts are at most 10,000,000,000 fen (100 million yuan) an order and an item, and an
    /// order has at most 200 items, so their sum is checked without any risk of overflow.
    static let maxAmountCents: Int64 = 10_000_000_000
    static let maxItems = 200

    func validate() -> [FieldProblem] {
        var problems = validateCode(orderId, field: "orderId")
        let amounts = 0...Self.maxAmountCents
        if !amounts.contains(amountCents) { problems.append(.init(field: "amountCents", message: "must be between 0 and \(Self.maxAmountCents)")) }
        if items.isEmpty || items.count > Self.maxItems { problems.append(.init(field: "items", message: "must name 1 to \(Self.maxItems) items")) }
        for (index, item) in items.enumerated() {
            if item.sku.isEmpty || item.sku.count > 64 { problems.append(.init(field: "items[\(index)].sku", message: "must be 1 to 64 characters")) }
            if item.category.isEmpty || item.category.count > 40 {
                problems.append(.init(field: "items[\(index)].category", message: "must be 1 to 40 characters"))
            }
            if !(1...10_000).contains(item.quantity) { problems.append(.init(field: "items[\(index)].quantity", message: "must be 1 to 10000")) }
            if !amounts.contains(item.amountCents) {
                problems.append(.init(field: "items[\(index)].amountCents", message: "must be between 0 and \(Self.maxAmountCents)"))
            }
        }
        if problems.isEmpty, items.reduce(0, { $0 + $1.amountCents }) != amountCents {
            problems.append(.init(field: "amountCents", message: "must equal the sum of the items' amounts"))
        }
        return problems
    }
}

struct PurchaseView: ResponseCodable, Sendable, Equatable {
    let orderId: String
    let memberId: UUID
    let storeId: String
    let amountCents: Int64
    let items: [PurchaseItem]
    let purchasedAt: Date
    let pointsEarned: Int64
    let refundedAt: Date?
}

struct SpendRequest: ValidatedRequest, Sendable {
    /// More than one order of the largest amount earns at the highest multiplier.
    static let limit: Int64 = 1_000_000_000_000

    let points: Int64
    let reference: String?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !(1...Self.limit).contains(points) { problems.append(.init(field: "points", message: "must be 1 to \(Self.limit)")) }
        if let reference, reference.count > 100 { problems.append(.init(field: "reference", message: "must be at most 100 characters")) }
        return problems
    }
}

/// A correction by staff (a goodwill gesture, a mistake put right): signed, with a reason.
struct AdjustRequest: ValidatedRequest, Sendable {
    static let limit: Int64 = 1_000_000

    let points: Int64
    let reason: String

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if points == 0 || !(-Self.limit...Self.limit).contains(points) {
            problems.append(.init(field: "points", message: "must be non-zero and at most \(Self.limit) either way"))
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || reason.count > 200 { problems.append(.init(field: "reason", message: "must be 1 to 200 characters")) }
        return problems
    }
}
