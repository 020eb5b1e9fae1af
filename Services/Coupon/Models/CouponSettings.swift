import AftercareRuntime
import Foundation

/// The service's configurable times and limits, from the environment.
struct CouponSettings: Sendable, Equatable {
    /// A store manager can undo a desk redemption within this time.
    var undoWindow: TimeInterval = 30 * 60
    /// Failed code lookups one caller may make in `lookupWindow` before they are refused for a while.
    var lookupFailures = 10
    var lookupWindow: TimeInterval = 10 * 60
    /// Members a campaign issues to in one transaction, and the wait before its next batch
    /// (to spread a large campaign, and the messages it sets off, over time).
    var campaignBatch = 500
    var campaignPause: TimeInterval = 0

    static func read(_ reader: EnvironmentReader) throws -> CouponSettings {
        var settings = CouponSettings()
        settings.undoWindow = TimeInterval(try reader.int("COUPON_UNDO_WINDOW_MINUTES", default: 30, range: 1...10080) * 60)
        settings.lookupFailures = try reader.int("COUPON_LOOKUP_FAILURES_ALLOWED", default: 10, range: 1...10000)
        settings.campaignBatch = try reader.int("COUPON_CAMPAIGN_BATCH_SIZE", default: 500, range: 1...5000)
        settings.campaignPause = TimeInterval(try reader.int("COUPON_CAMPAIGN_PAUSE_SECONDS", default: 0, range: 0...3600))
        return settings
    }
}
