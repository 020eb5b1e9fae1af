import AftercareRuntime
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

extension WeeklyHours {
    /// A new technician's week until their dealer admin sets it: Monday to Saturday, 09–19.
    static let standard = WeeklyHours(days: Dictionary(uniqueKeysWithValues: (1...6).map { ($0, Span(from: 540, to: 1140)) }))
}

/// Working hours as the API and the database write them: one entry per working weekday.
struct TechnicianHours: Codable, Sendable, Equatable {
    let weekday: Int
    let from: String
    let to: String

    static func entries(_ hours: WeeklyHours) -> [TechnicianHours] {
        hours.days.keys.sorted().compactMap { weekday in
            hours.days[weekday].map { span in
                let window = SlotWindow(from: span.from, to: span.to).description.split(separator: "-")
                return TechnicianHours(weekday: weekday, from: String(window[0]), to: String(window[1]))
            }
        }
    }

    static func encode(_ hours: WeeklyHours) throws -> String {
        String(decoding: try JSONEncoder().encode(entries(hours)), as: UTF8.self)
    }

    /// Entries already checked (`problems`) or read back from the database.
    static func weeklyHours(_ entries: [TechnicianHours]) -> WeeklyHours {
        var days: [Int: WeeklyHours.Span] = [:]
        for entry in entries {
            if let window = SlotWindow("\(entry.from)-\(entry.to)") { days[entry.weekday] = .init(from: window.fromMinute, to: window.toMinute) }
        }
        return WeeklyHours(days: days)
    }

    static func decode(_ json: String) -> WeeklyHours {
        weeklyHours((try? JSONDecoder().decode([TechnicianHours].self, from: Data(json.utf8))) ?? [])
    }

    static func problems(_ entries: [TechnicianHours], field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if entries.count > 7 || Set(entries.map(\.weekday)).count != entries.count {
            problems.append(.init(field: field, message: "must name each weekday at most once"))
        }
        for (index, entry) in entries.enumerated() {
            if !(1...7).contains(entry.weekday) {
                problems.append(.init(field: "\(field)[\(index)].weekday", message: "must be 1 (Monday) to 7 (Sunday)"))
            }
            if SlotWindow("\(entry.from)-\(entry.to)") == nil {
                problems.append(.init(field: "\(field)[\(index)].to", message: "from and to must be HH:MM times, to after from"))
            }
        }
        return problems
    }
}
