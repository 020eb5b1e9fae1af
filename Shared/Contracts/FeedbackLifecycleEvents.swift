import Foundation

/// Staff recorded how the complaint was resolved. It closes by itself at `closesAt` unless
/// the member confirms sooner or reopens it.
public struct ComplaintResolved: EventPayload, Equatable {
    public static let eventType = "feedback.complaint.resolved"
    public let complaintId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let resolution: String
    public let resolvedBy: String
    public let resolvedAt: Date
    public let closesAt: Date

    public init(
        complaintId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        resolution: String,
        resolvedBy: String,
        resolvedAt: Date,
        closesAt: Date
    ) {
        self.complaintId = complaintId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.resolution = resolution
        self.resolvedBy = resolvedBy
        self.resolvedAt = resolvedAt
        self.closesAt = closesAt
    }
}

public enum ComplaintClosure: String, Codable, Sendable {
    /// The member confirmed the resolution (or staff did on their word).
    case confirmed
    /// Nobody objected within the quiet period.
    case quietPeriod = "quiet_period"
}

public struct ComplaintClosed: EventPayload, Equatable {
    public static let eventType = "feedback.complaint.closed"
    public let complaintId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let closure: ComplaintClosure
    public let closedAt: Date
    /// The member may reopen it until then.
    public let reopenableUntil: Date

    public init(
        complaintId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        closure: ComplaintClosure,
        closedAt: Date,
        reopenableUntil: Date
    ) {
        self.complaintId = complaintId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.closure = closure
        self.closedAt = closedAt
        self.reopenableUntil = reopenableUntil
    }
}

/// The member was not satisfied after all; a new callback task follows (its own event).
public struct ComplaintReopened: EventPayload, Equatable {
    public static let eventType = "feedback.complaint.reopened"
    public let complaintId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let reason: String
    public let reopenedBy: String
    public let reopenedAt: Date

    public init(complaintId: UUID, memberId: String, storeId: String, dealerId: String, reason: String, reopenedBy: String, reopenedAt: Date) {
        self.complaintId = complaintId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.reason = reason
        self.reopenedBy = reopenedBy
        self.reopenedAt = reopenedAt
    }
}

/// A call did not reach the member and the agreed retry time has come: remind the assignee.
public struct CallbackRetryDue: EventPayload, Equatable {
    public static let eventType = "feedback.callback.retry_due"
    public let taskId: UUID
    public let complaintId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let level: CallbackLevel
    public let assigneeId: String?
    public let attempts: Int

    public init(
        taskId: UUID,
        complaintId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        level: CallbackLevel,
        assigneeId: String?,
        attempts: Int
    ) {
        self.taskId = taskId
        self.complaintId = complaintId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.level = level
        self.assigneeId = assigneeId
        self.attempts = attempts
    }
}
