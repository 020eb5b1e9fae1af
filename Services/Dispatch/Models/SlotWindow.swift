import AftercareRuntime
import Foundation

/// A bookable window of a store's day, `09:00-12:00`, as minutes after local midnight.
struct SlotWindow: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    let fromMinute: Int
    let toMinute: Int

    /// The brand's usual windows: morning, early and late afternoon.
    static let standard = [SlotWindow(from: 540, to: 720), SlotWindow(from: 780, to: 960), SlotWindow(from: 960, to: 1140)]

    init(from: Int, to: Int) {
        fromMinute = from
        toMinute = to
    }

    /// `HH:MM-HH:MM` within one day, the end after the start; nil for anything else.
    init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let from = Self.minute(parts[0]), let to = Self.minute(parts[1]), from < to else { return nil }
        fromMinute = from
        toMinute = to
    }

    var description: String { "\(Self.clock(fromMinute))-\(Self.clock(toMinute))" }

    func overlaps(_ other: SlotWindow) -> Bool { fromMinute < other.toMinute && other.fromMinute < toMinute }

    private static func minute(_ text: Substring) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":"), bytes.allSatisfy({ $0 == UInt8(ascii: ":") || (48...57).contains($0) }) else {
            return nil
        }
        let hours = Int(bytes[0] - 48) * 10 + Int(bytes[1] - 48)
        let minutes = Int(bytes[3] - 48) * 10 + Int(bytes[4] - 48)
        guard minutes < 60, hours < 24 || (hours == 24 && minutes == 0) else { return nil }
        return hours * 60 + minutes
    }

    private static func clock(_ minute: Int) -> String {
        let (hours, minutes) = (minute / 60, minute % 60)
        return (hours < 10 ? "0" : "") + String(hours) + (minutes < 10 ? ":0" : ":") + String(minutes)
    }

    /// A list of windows as settings or staff write it: comma-separated, not overlapping.
    static func list(_ text: String) -> [SlotWindow]? {
        let windows = text.split(separator: ",").map { SlotWindow(String($0).trimmingCharacters(in: .whitespaces)) }
        guard !windows.isEmpty, windows.count <= 12 else { return nil }
        let parsed = windows.compactMap { $0 }.sorted { $0.fromMinute < $1.fromMinute }
        guard parsed.count == windows.count, zip(parsed, parsed.dropFirst()).allSatisfy({ !$0.overlaps($1) }) else { return nil }
        return parsed
    }
}

/// A local day of a store: converts its windows to instants and back.
struct StoreDay: Sendable, Equatable {
    /// `yyyy-MM-dd` in the store's time zone.
    let day: String
    let timeZone: TimeZone

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The local day `instant` falls on.
    init(containing instant: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        day = String(format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        self.timeZone = timeZone
    }

    init?(_ day: String, in timeZone: TimeZone) {
        guard ISO8601.day(day) != nil else { return nil }
        self.day = day
        self.timeZone = timeZone
    }

    var midnight: Date {
        let (year, month, dayOfMonth) = ISO8601.day(day) ?? (1970, 1, 1)
        return calendar.date(from: DateComponents(year: year, month: month, day: dayOfMonth)) ?? Date(timeIntervalSince1970: 0)
    }

    /// The instant `minute` minutes into the day, on the local wall clock.
    func instant(atMinute minute: Int) -> Date {
        calendar.date(byAdding: .minute, value: minute, to: midnight) ?? midnight
    }

    /// 1 Monday … 7 Sunday.
    var weekday: Int {
        let sundayFirst = calendar.component(.weekday, from: midnight)
        return sundayFirst == 1 ? 7 : sundayFirst - 1
    }

    /// The day `days` later; counted from noon, so a clock change at midnight cannot land on
    /// the wrong day.
    func adding(days: Int) -> StoreDay {
        StoreDay(
            containing: calendar.date(byAdding: .day, value: days, to: midnight).map { $0.addingTimeInterval(3600 * 12) } ?? midnight,
            in: timeZone
        )
    }

    /// The Monday of the day's week.
    var monday: StoreDay { adding(days: 1 - weekday) }

    func window(_ window: SlotWindow, serviceType: String, store: String) -> VisitWindow {
        VisitWindow(day: day, weekday: weekday, fromMinute: window.fromMinute, toMinute: window.toMinute, store: store, serviceType: serviceType)
    }
}
