import AftercareRuntime
import Foundation

/// The service's configurable times and limits, from the environment.
struct CouponSettings: Sendable, Equatable {
    /// A store manager can undo a desk redemption within this time.
    var undoWindow: TimeInterval = 30 * 60
    /// Failed code lookups one caller may make in `lookupWindow` before they are refused for a while.
    var lookupFailures = 10
    var lookupWindow: TimeInterval = 10 * 60

    static func read(_ reader: EnvironmentReader) throws -> CouponSettings {
        var settings = CouponSettings()
        settings.undoWindow = TimeInterval(try reader.int("COUPON_UNDO_WINDOW_MINUTES", default: 30, range: 1...10080) * 60)
        settings.lookupFailures = try reader.int("COUPON_LOOKUP_FAILURES_ALLOWED", default: 10, range: 1...10000)
        return settings
    }
}
