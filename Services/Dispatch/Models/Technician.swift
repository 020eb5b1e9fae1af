import Foundation

/// A technician as dispatch plans with them: which services they do, which stores' members
/// they serve, when they work (in the store's time zone), their days off, and how many
/// visits a day they take.
struct TechnicianProfile: Sendable, Equatable {
    let id: String
    let dealerId: String
    let homeStore: String?
    /// Service type keys.
    let skills: Set<String>
    /// Store ids whose members they serve.
    let territory: Set<String>
    let hours: WeeklyHours
    /// Local days (`yyyy-MM-dd`) they do not work.
    let daysOff: Set<String>
    let visitsPerDay: Int
    /// A technician who left is offered nothing more.
    let active: Bool
}

/// Working time per weekday (1 Monday … 7 Sunday), as minutes after local midnight.
struct WeeklyHours: Sendable, Equatable {
    struct Span: Sendable, Equatable {
        let from: Int
        let to: Int
    }

    let days: [Int: Span]

    func covers(weekday: Int, from: Int, to: Int) -> Bool {
        guard let span = days[weekday] else { return false }
        return span.from <= from && to <= span.to
    }
}

/// One visit's window to staff: a local day and time at a member's store, for a service type.
struct VisitWindow: Sendable, Equatable {
    /// `yyyy-MM-dd` in the store's time zone.
    let day: String
    /// 1 Monday … 7 Sunday.
    let weekday: Int
    let fromMinute: Int
    let toMinute: Int
    let store: String
    let serviceType: String
}

/// Visits already planned for each technician: on the window's day, and in its week.
struct Workload: Sendable, Equatable {
    var onDay: [String: Int] = [:]
    var inWeek: [String: Int] = [:]
}
