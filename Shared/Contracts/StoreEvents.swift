import Foundation

/// Opening hours per weekday (1 = Monday … 7 = Sunday), local to the store, `HH:mm`. A day
/// not listed is a closed day. Shared so that membership (which owns stores) and feedback
/// (which starts a complaint at the HQ desk when the store is closed) read them alike.
public struct BusinessHours: Codable, Sendable, Equatable {
    public struct Day: Codable, Sendable, Equatable {
        public let weekday: Int
        public let opens: String
        public let closes: String

        public init(weekday: Int, opens: String, closes: String) {
            self.weekday = weekday
            self.opens = opens
            self.closes = closes
        }
    }

    public let days: [Day]

    public init(days: [Day]) {
        self.days = days
    }

    /// Minutes after midnight of an `HH:mm` time; nil when it is not one.
    public static func minutes(_ value: String) -> Int? {
        let parts = value.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...23).contains(hours), (0...59).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }

    /// Whether the store is open at `instant`, on the wall clock of `timeZone`.
    public func isOpen(at instant: Date, in timeZone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: instant)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return true }
        let isoWeekday = weekday == 1 ? 7 : weekday - 1  // Calendar: 1 = Sunday
        let now = hour * 60 + minute
        return days.contains { day in
            guard day.weekday == isoWeekday, let opens = Self.minutes(day.opens), let closes = Self.minutes(day.closes) else { return false }
            return opens <= now && now < closes
        }
    }
}

/// A store was opened (created) by its dealer.
public struct StoreOpened: EventPayload, Equatable {
    public static let eventType = "membership.store.opened"
    public let storeId: String
    public let dealerId: String
    public let name: String
    /// IANA time zone of the store's wall clock.
    public let timeZone: String
    /// Nil when the store keeps no published hours (treated as always staffed).
    public let businessHours: BusinessHours?

    public init(storeId: String, dealerId: String, name: String, timeZone: String, businessHours: BusinessHours?) {
        self.storeId = storeId
        self.dealerId = dealerId
        self.name = name
        self.timeZone = timeZone
        self.businessHours = businessHours
    }

    public func validate() throws(EventValidationError) {
        try requireID(storeId, "storeId")
        try requireID(dealerId, "dealerId")
        if TimeZone(checking: timeZone) == nil { throw EventValidationError("timeZone \(timeZone) is not a known time zone") }
    }
}
