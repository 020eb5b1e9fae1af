import Foundation

/// Who may take a seat of a visit, and in what order they are asked. The skill, the
/// territory, working hours, days off and daily capacity are hard rules; among those who pass,
/// the fewest visits that week come first, then a technician whose home store is the member's
/// store (the nearest), then by id so the order is stable.
enum CrewChoice {
    /// Why a technician cannot take a seat, in the order the rules are checked.
    enum Refusal: String, Sendable, Equatable {
        case inactive = "has left"
        case lacksSkill = "does not do this service"
        case outsideTerritory = "does not serve this store"
        case dayOff = "is off that day"
        case outsideHours = "does not work at that time"
        case dayFull = "has no visit left that day"
    }

    struct Candidate: Sendable, Equatable {
        let technicianId: String
        let visitsThisWeek: Int
        let atHomeStore: Bool
        /// Why this one was asked when they were, shown on the order.
        var reason: String {
            "\(visitsThisWeek) visit\(visitsThisWeek == 1 ? "" : "s") this week" + (atHomeStore ? ", home store is the member's" : "")
        }
    }

    static func refusal(_ technician: TechnicianProfile, for window: VisitWindow, workload: Workload) -> Refusal? {
        if !technician.active { return .inactive }
        if !technician.skills.contains(window.serviceType) { return .lacksSkill }
        if !technician.territory.contains(window.store) { return .outsideTerritory }
        if technician.daysOff.contains(window.day) { return .dayOff }
        if !technician.hours.covers(weekday: window.weekday, from: window.fromMinute, to: window.toMinute) { return .outsideHours }
        if workload.onDay[technician.id, default: 0] >= technician.visitsPerDay { return .dayFull }
        return nil
    }

    /// Everyone who passes the hard rules, best first; `excluding` are those already asked
    /// for this order (they declined, let an offer lapse, or hold another seat).
    static func candidates(
        for window: VisitWindow,
        among technicians: [TechnicianProfile],
        workload: Workload,
        excluding: Set<String> = []
    ) -> [Candidate] {
        technicians
            .filter { !excluding.contains($0.id) && refusal($0, for: window, workload: workload) == nil }
            .map { Candidate(technicianId: $0.id, visitsThisWeek: workload.inWeek[$0.id, default: 0], atHomeStore: $0.homeStore == window.store) }
            .sorted { a, b in
                if a.visitsThisWeek != b.visitsThisWeek { return a.visitsThisWeek < b.visitsThisWeek }
                if a.atHomeStore != b.atHomeStore { return a.atHomeStore }
                return a.technicianId < b.technicianId
            }
    }

    /// How many more bookings a slot takes: the crews the technicians free for the window can
    /// form, less the bookings already holding it.
    static func room(for window: VisitWindow, crewSize: Int, among technicians: [TechnicianProfile], workload: Workload, booked: Int) -> Int {
        guard crewSize > 0 else { return 0 }
        let free = technicians.filter { refusal($0, for: window, workload: workload) == nil }.count
        return max(0, free / crewSize - booked)
    }
}
