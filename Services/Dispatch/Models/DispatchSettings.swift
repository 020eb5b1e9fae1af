import AftercareRuntime
import Foundation

/// The service's configurable times and windows, from the environment.
struct DispatchSettings: Sendable, Equatable {
    /// A store's bookable windows unless its staff set others.
    var slotWindows = SlotWindow.standard
    /// An offer not answered in this time lapses and the seat goes to the next candidate.
    var offerTimeout: TimeInterval = 15 * 60
    /// The store manager is alerted when the crew is still incomplete this long before the slot.
    var crewAlertLead: TimeInterval = 4 * 3600
    /// A booking that names a coupon expires when the coupon service has not answered by then.
    var couponWait: TimeInterval = 10 * 60
    /// How far ahead a visit may be booked.
    var bookingHorizonDays = 60
    /// A new technician's profile until their dealer admin sets it.
    var defaultVisitsPerDay = 3

    static func read(_ reader: EnvironmentReader) throws -> DispatchSettings {
        var settings = DispatchSettings()
        if let text = reader.optional("DISPATCH_SLOT_WINDOWS") {
            guard let windows = SlotWindow.list(text) else {
                throw ConfigurationError(
                    variable: "DISPATCH_SLOT_WINDOWS",
                    problem: "must be windows like 09:00-12:00,13:00-16:00 that do not overlap"
                )
            }
            settings.slotWindows = windows
        }
        settings.offerTimeout = TimeInterval(try reader.int("DISPATCH_OFFER_TIMEOUT_MINUTES", default: 15, range: 1...1440) * 60)
        settings.crewAlertLead = TimeInterval(try reader.int("DISPATCH_CREW_ALERT_LEAD_MINUTES", default: 240, range: 0...10080) * 60)
        settings.couponWait = TimeInterval(try reader.int("DISPATCH_COUPON_WAIT_MINUTES", default: 10, range: 1...1440) * 60)
        settings.bookingHorizonDays = try reader.int("DISPATCH_BOOKING_HORIZON_DAYS", default: 60, range: 1...365)
        return settings
    }
}
