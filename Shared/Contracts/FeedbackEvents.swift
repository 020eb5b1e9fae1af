import Foundation

/// The rungs of the complaint ladder, in order.
public enum CallbackLevel: String, Codable, Sendable, CaseIterable, Comparable {
    case guide
    case storeManager = "store_manager"
    case dealerAdmin = "dealer_admin"
    case hqDesk = "hq_desk"

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

public struct ComplaintOpened: EventPayload, Equatable {
    public static let eventType = "feedback.complaint.opened"
    public let complaintId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let channel: String
    public let category: String
    public let severity: String
    public let openedAt: Date

    public init(
        complaintId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        channel: String,
        category: String,
        severity: String,
        openedAt: Date
    ) {
        self.complaintId = complaintId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.channel = channel
        self.category = category
        self.severity = severity
        self.openedAt = openedAt
    }
}

/// A person must phone the member back by `dueAt`. Carries what notification needs to tell
/// the assignee at once.
public struct CallbackCreated: EventPayload, Equatable {
    public static let eventType = "feedback.callback.created"
    public let taskId: UUID
    public let complaintId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let level: CallbackLevel
    /// Nil when the task sits with the HQ service desk rather than a named person.
    public let assigneeId: String?
    public let dueAt: Date?
    public let category: String
    public let severity: String

    public init(
        taskId: UUID,
        complaintId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        level: CallbackLevel,
        assigneeId: String?,
        dueAt: Date?,
        category: String,
        severity: String
    ) {
        self.taskId = taskId
        self.complaintId = complaintId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.level = level
        self.assigneeId = assigneeId
        self.dueAt = dueAt
        self.category = category
        self.severity = severity
    }
}

/// Nobody called back in time: the task moved up the ladder.
public struct CallbackEscalated: EventPayload, Equatable {
    public static let eventType = "feedback.callback.escalated"
    public let taskId: UUID
    public let complaintId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let fromLevel: CallbackLevel
    public let toLevel: CallbackLevel
    public let assigneeId: String?
    /// Nil at the last level (the HQ desk has no further deadline).
    public let dueAt: Date?

    public init(
        taskId: UUID,
        complaintId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        fromLevel: CallbackLevel,
        toLevel: CallbackLevel,
        assigneeId: String?,
        dueAt: Date?
    ) {
        self.taskId = taskId
        self.complaintId = complaintId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.fromLevel = fromLevel
        self.toLevel = toLevel
        self.assigneeId = assigneeId
        self.dueAt = dueAt
    }
}

public struct CallbackCompleted: EventPayload, Equatable {
    public static let eventType = "feedback.callback.completed"
    public let taskId: UUID
    public let complaintId: UUID
    public let level: CallbackLevel
    public let calledBackBy: String
    public let calledBackAt: Date
    /// Whether the member was reached within the five-minute promise.
    public let metPromise: Bool

    public init(taskId: UUID, complaintId: UUID, level: CallbackLevel, calledBackBy: String, calledBackAt: Date, metPromise: Bool) {
        self.taskId = taskId
        self.complaintId = complaintId
        self.level = level
        self.calledBackBy = calledBackBy
        self.calledBackAt = calledBackAt
        self.metPromise = metPromise
    }
}
