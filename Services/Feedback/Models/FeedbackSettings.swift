import AftercareRuntime
import Foundation

/// The service's configurable times and thresholds, from the environment. The escalation
/// deadlines here are the defaults; HQ can set other ones per dealer through the API.
struct FeedbackSettings: Sendable, Equatable {
    var policy = EscalationPolicy.standard
    /// A resolved complaint closes by itself after this quiet period unless the member
    /// confirms or reopens it first.
    var closeAfter: TimeInterval = 72 * 3600
    /// How long after it was resolved or closed a member may reopen a complaint.
    var reopenWindow: TimeInterval = 14 * 86400
    /// When a call did not reach the member and the caller named no time, try again after this.
    var retryAfter: TimeInterval = 10 * 60
    /// A review request lapses this long after the service visit was completed.
    var reviewExpiresAfter: TimeInterval = 7 * 86400
    /// A rating at or below this (of the visit or of any technician) opens a complaint.
    var lowRatingThreshold = 2

    static func read(_ reader: EnvironmentReader) throws -> FeedbackSettings {
        var settings = FeedbackSettings()
        func minutes(_ name: String, _ defaultValue: Int) throws -> TimeInterval {
            TimeInterval(try reader.int(name, default: defaultValue, range: 1...1440) * 60)
        }
        settings.policy.promise = try minutes("FEEDBACK_CALLBACK_PROMISE_MINUTES", 5)
        settings.policy.guide = try minutes("FEEDBACK_GUIDE_MINUTES", 5)
        settings.policy.storeManager = try minutes("FEEDBACK_STORE_MANAGER_MINUTES", 5)
        settings.policy.dealerAdmin = try minutes("FEEDBACK_DEALER_ADMIN_MINUTES", 10)
        settings.retryAfter = try minutes("FEEDBACK_RETRY_AFTER_MINUTES", 10)
        settings.closeAfter = TimeInterval(try reader.int("FEEDBACK_CLOSE_AFTER_HOURS", default: 72, range: 1...2160) * 3600)
        settings.reopenWindow = TimeInterval(try reader.int("FEEDBACK_REOPEN_WITHIN_DAYS", default: 14, range: 0...365) * 86400)
        settings.reviewExpiresAfter = TimeInterval(try reader.int("FEEDBACK_REVIEW_EXPIRES_AFTER_DAYS", default: 7, range: 1...90) * 86400)
        settings.lowRatingThreshold = try reader.int("FEEDBACK_LOW_RATING_THRESHOLD", default: 2, range: 1...4)
        return settings
    }
}
