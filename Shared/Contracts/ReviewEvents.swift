import Foundation

/// The member is asked to review a completed service visit, until `expiresAt`.
public struct ReviewRequested: EventPayload, Equatable {
    public static let eventType = "feedback.review.requested"
    public let requestId: UUID
    public let orderId: String
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let technicianIds: [String]
    public let expiresAt: Date

    public init(requestId: UUID, orderId: String, memberId: String, storeId: String, dealerId: String, technicianIds: [String], expiresAt: Date) {
        self.requestId = requestId
        self.orderId = orderId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.technicianIds = technicianIds
        self.expiresAt = expiresAt
    }
}

public struct TechnicianRating: Codable, Sendable, Equatable {
    public let technicianId: String
    public let rating: Int

    public init(technicianId: String, rating: Int) {
        self.technicianId = technicianId
        self.rating = rating
    }
}

/// A member reviewed a service visit: 1–5 for the visit and for each technician. A low one
/// opened `complaintId`.
public struct ReviewSubmitted: EventPayload, Equatable {
    public static let eventType = "feedback.review.submitted"
    public let requestId: UUID
    public let orderId: String
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let visitRating: Int
    public let technicianRatings: [TechnicianRating]
    public let comment: String?
    public let submittedAt: Date
    public let complaintId: UUID?

    public init(
        requestId: UUID,
        orderId: String,
        memberId: String,
        storeId: String,
        dealerId: String,
        visitRating: Int,
        technicianRatings: [TechnicianRating],
        comment: String?,
        submittedAt: Date,
        complaintId: UUID?
    ) {
        self.requestId = requestId
        self.orderId = orderId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.visitRating = visitRating
        self.technicianRatings = technicianRatings
        self.comment = comment
        self.submittedAt = submittedAt
        self.complaintId = complaintId
    }
}
