import Foundation

/// A service order's visit is done: the technicians finished the work at the member's home.
/// Feedback asks the member for a review of each technician; the coupon service consumes a
/// coupon the booking was paid with.
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
    public let bookingId: UUID?
    public let couponCode: String?

    public init(
        orderId: String,
        memberId: String,
        storeId: String,
        dealerId: String,
        serviceType: String,
        technicianIds: [String],
        completedAt: Date,
        bookingId: UUID? = nil,
        couponCode: String? = nil
    ) {
        self.bookingId = bookingId
        self.couponCode = couponCode
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

/// One checklist step was marked done by one of the crew.
public struct ServiceStepDone: EventPayload, Equatable {
    public static let eventType = "dispatch.order.step_done"
    public let orderId: UUID
    /// 1-based, in the checklist's order.
    public let step: Int
    public let title: String
    public let technicianId: String
    public let doneAt: Date

    public init(orderId: UUID, step: Int, title: String, technicianId: String, doneAt: Date) {
        self.orderId = orderId
        self.step = step
        self.title = title
        self.technicianId = technicianId
        self.doneAt = doneAt
    }

    public func validate() throws(EventValidationError) {
        try requireID(technicianId, "technicianId")
    }
}

/// A technician's service profile (skills, territory, hours, days off, daily visits) was
/// changed by a dealer admin or HQ.
public struct TechnicianProfileChanged: EventPayload, Equatable {
    public static let eventType = "dispatch.technician.profile_changed"
    public let technicianId: String
    public let dealerId: String
    public let skills: [String]
    public let territory: [String]
    public let visitsPerDay: Int
    public let actorId: String

    public init(technicianId: String, dealerId: String, skills: [String], territory: [String], visitsPerDay: Int, actorId: String) {
        self.technicianId = technicianId
        self.dealerId = dealerId
        self.skills = skills
        self.territory = territory
        self.visitsPerDay = visitsPerDay
        self.actorId = actorId
    }

    public func validate() throws(EventValidationError) {
        try requireID(technicianId, "technicianId")
        try requireID(dealerId, "dealerId")
    }
}
