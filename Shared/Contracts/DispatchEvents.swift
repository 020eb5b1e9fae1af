import Foundation

/// A service order's visit is done: the technicians finished the work at the member's home.
/// Feedback asks the member for a review. (The dispatch service will publish it; the
/// contract lives here so both sides are checked by the compiler.)
public struct ServiceOrderCompleted: EventPayload, Equatable {
    public static let eventType = "dispatch.order.completed"
    public let orderId: String
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    /// Installation, maintenance, repair, …
    public let serviceType: String
    public let technicianIds: [String]
    public let completedAt: Date

    public init(orderId: String, memberId: String, storeId: String, dealerId: String, serviceType: String, technicianIds: [String], completedAt: Date)
    {
        self.orderId = orderId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.serviceType = serviceType
        self.technicianIds = technicianIds
        self.completedAt = completedAt
    }

    public func validate() throws(EventValidationError) {
        try requireID(orderId, "orderId")
        try requireID(memberId, "memberId")
        try requireID(storeId, "storeId")
        try requireID(dealerId, "dealerId")
        if technicianIds.isEmpty { throw EventValidationError("technicianIds must name at least one technician") }
        for id in technicianIds { try requireID(id, "technicianIds[]") }
    }
}
